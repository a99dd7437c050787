"""Migration 0012 moves the agreement files of the instance folder into the database:
those the database names, each checked against its digest; the files stay where they
were. Its downgrade writes back every file only the database holds, so nothing is lost."""

import hashlib
import stat

import pytest
from sqlmodel import select

from portal import migrate
from portal.agreements import service as agreements
from portal.agreements.models import AgreementVersion
from portal.db import session_scope
from portal.errors import ServiceError
from portal.requests.models import AccessRequest
from portal.storage import service as storage
from portal.storage.models import StoredFile

from helpers import module_database

SIGNERS = (("researcher", None), ("cedar_rep", "red-cedar"), ("heron_rep", "blue-heron"))


@pytest.fixture
def database_url(migrated_template, tmp_path):
    """A database of this test's own: it is migrated down and up again."""
    with module_database(migrated_template, tmp_path) as url:
        yield url


def stored(app) -> dict[str, bytes]:
    with app.app_context(), session_scope() as session:
        return {row.sha256: bytes(row.data) for row in session.exec(select(StoredFile))}


def version_digests(app) -> list[str]:
    with app.app_context(), session_scope() as session:
        query = select(AgreementVersion.sha256).order_by(AgreementVersion.id)
        return list(session.exec(query))


def test_the_files_move_into_the_database_and_back(app, flow, runner, instance_path):
    ref = flow.approved()
    flow.do("researcher", "sign", ref)
    before = stored(app)
    issued, latest = version_digests(app)
    assert set(before) == {issued, latest}
    app.extensions["portal.db"].dispose()

    migrate.downgrade(app.config["DATABASE_URL"], "0011", instance=instance_path)
    folder = instance_path / "agreements"
    for digest, data in before.items():  # written back: nothing only the database held is lost
        path = folder / f"{digest}.pdf"
        assert path.read_bytes() == data
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    # At 0011 the portal read these files. One was changed on disk; one nobody names.
    (folder / f"{issued}.pdf").write_bytes(before[issued] + b"\n% changed on disk\n")
    stray = b"%PDF-1.7 a file no agreement names"
    (folder / f"{hashlib.sha256(stray).hexdigest()}.pdf").write_bytes(stray)
    upgraded = runner.invoke(args=["db", "upgrade"])  # given the app's instance folder
    assert upgraded.exit_code == 0, upgraded.output

    assert stored(app) == {latest: before[latest]}  # the sound, named file alone
    assert len(list(folder.iterdir())) == 3, "the files stay where they were"
    missing = pytest.raises(ServiceError, match=f"The stored file {issued} is missing")
    with app.app_context(), session_scope() as session, missing:
        storage.get(session, issued)
    for who, nation in SIGNERS[1:]:  # signing goes on from the file moved in
        flow.do(who, "sign", ref, nation)
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        assert agreements.current(session, request).version == 3


def test_without_an_agreements_folder_nothing_moves(app, flow, instance_path, tmp_path):
    flow.approved()
    app.extensions["portal.db"].dispose()
    url = app.config["DATABASE_URL"]
    migrate.downgrade(url, "0011", instance=tmp_path / "elsewhere")
    migrate.upgrade(url, instance=tmp_path / "empty-instance")
    assert stored(app) == {}
    assert not (instance_path / "agreements").exists()
