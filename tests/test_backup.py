"""`portal backup FILE` and `portal restore FILE` (README, "Backup and restore"): a portal
with a signed agreement, backed up through the command line and restored into a fresh
database and a fresh instance folder, is the same portal: the audit chain verifies with
the same head, the agreement is served with its hash, a login still signs in. A damaged
file, or a database that is not empty, is refused and nothing is written."""

import gzip
import hashlib
import io
import json
import stat
import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from portal import create_app, migrate
from portal.agreements import service as agreements
from portal.audit.models import AuditChainHead
from portal.backup.database import client_settings
from portal.db import session_scope
from portal.requests.models import AccessRequest

from flows import PEOPLE
from helpers import ON_POSTGRES, scratch_postgres_database, sign_in

OLDER_REVISION = "0010"  # a revision older than the newest
SIGNERS = (("researcher", None), ("cedar_rep", "red-cedar"), ("heron_rep", "blue-heron"))


def signed_request(flow) -> str:
    ref = flow.approved(cedar_conditions=["aggregate_only"])
    for who, nation in SIGNERS:
        flow.do(who, "sign", ref, nation)
    return ref


def chain_head(app) -> tuple[int, str]:
    with app.app_context(), session_scope() as session:
        head = session.get(AuditChainHead, 1)
        return head.last_event_id, head.last_hash


def agreement_sha256(app, ref: str) -> str:
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        return agreements.current(session, request).sha256


def table_names(app) -> list[str]:
    with app.app_context(), session_scope() as session:
        return sa.inspect(session.connection()).get_table_names()


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.load(tar.extractfile("manifest.json"))


def rewrite(archive: Path, change) -> None:
    """Write ``archive`` again with ``change(name, data) -> data`` applied to each member."""
    members = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            members.append((member, change(member.name, tar.extractfile(member).read())))
    with tarfile.open(archive, "w:gz") as tar:
        for member, data in members:
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))


@pytest.fixture
def restored_app(fresh_database_url, tmp_path):
    """A portal on an empty database and an empty instance folder, as on a new host."""
    instance = tmp_path / "restored-instance"
    instance.mkdir()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",  # the CA key is encrypted with it
            "DATABASE_URL": fresh_database_url,
            "INSTANCE_PATH": str(instance),
            "SESSION_COOKIE_SECURE": False,
            "MAIL_SEND_AFTER_REQUEST": False,
        }
    )
    yield app
    app.extensions["portal.db"].dispose()


@pytest.fixture
def backed_up(app, flow, runner, tmp_path) -> tuple[str, Path]:
    """A signed agreement, backed up through `portal backup`: its ref and the file."""
    ref = signed_request(flow)
    archive = tmp_path / "backups" / "portal.tar.gz"
    archive.parent.mkdir()
    result = runner.invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    return ref, archive


def test_a_restored_portal_verifies_serves_the_agreement_and_signs_in(
    app, backed_up, restored_app, instance_path
):
    ref, archive = backed_up
    head = chain_head(app)
    assert head[0] > 0
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds the CA key
    manifest = manifest_of(archive)
    assert manifest["audit_chain_head"] == {"last_event_id": head[0], "hash": head[1]}
    assert manifest["database"] == app.extensions["portal.db"].dialect.name
    digest = agreement_sha256(app, ref)
    names = set(manifest["members"])
    assert not any(name.startswith("instance/agreements/") for name in names)  # in the database
    assert {f"instance/{name}" for name in files_under(instance_path)} <= names  # the CA too
    assert any(name.startswith("instance/ca/") for name in names)

    result = restored_app.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert f"head event {head[0]} {head[1]}" in result.output
    assert "portal db upgrade" not in result.output  # restored at the newest revision

    verify = restored_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    assert f"{head[0]} events, chain intact" in verify.output
    assert chain_head(restored_app) == head
    restored_instance = Path(restored_app.config["INSTANCE_PATH"])
    assert files_under(restored_instance) == files_under(instance_path)
    for path in restored_instance.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600

    client = restored_app.test_client()
    signed_in = sign_in(client, PEOPLE["researcher"][0])
    assert signed_in.status_code == 302 and signed_in.headers["Location"] != "/sign-in"
    served = client.get(f"/requests/{ref}/agreement.pdf")
    assert served.status_code == 200
    assert hashlib.sha256(served.data).hexdigest() == digest == agreement_sha256(restored_app, ref)


def test_old_agreement_files_are_left_out_and_an_older_backup_with_them_restores(
    app, flow, runner, instance_path, restored_app, tmp_path
):
    """Agreements were files in the instance folder before migration 0012 (which keeps
    them there, unread): a backup leaves them out; one made before, which holds them,
    restores as it was."""
    ref = signed_request(flow)
    digest = agreement_sha256(app, ref)
    old_file = instance_path / "agreements" / f"{digest}.pdf"
    old_file.parent.mkdir()
    old_file.write_bytes(b"the copy an older portal wrote")
    archive = tmp_path / "portal.tar.gz"
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0
    assert not any(n.startswith("instance/agreements/") for n in manifest_of(archive)["members"])

    # As an older backup: the agreement file listed in the manifest and in the archive.
    with tarfile.open(archive, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar]
    manifest = json.loads(members[0][1])
    name = f"instance/agreements/{digest}.pdf"
    manifest["members"][name] = hashlib.sha256(old_file.read_bytes()).hexdigest()
    with tarfile.open(archive, "w:gz") as tar:
        extra = tarfile.TarInfo(name)
        for member, data in [(members[0][0], json.dumps(manifest).encode()), *members[1:]]:
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
        extra.size = old_file.stat().st_size
        tar.addfile(extra, io.BytesIO(old_file.read_bytes()))

    result = restored_app.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 0, result.output
    restored_instance = Path(restored_app.config["INSTANCE_PATH"])
    assert (restored_instance / name.removeprefix("instance/")).read_bytes() == (
        old_file.read_bytes()
    )
    client = restored_app.test_client()
    sign_in(client, PEOPLE["researcher"][0])
    served = client.get(f"/requests/{ref}/agreement.pdf")  # from the database, not the file
    assert hashlib.sha256(served.data).hexdigest() == digest


def change_one_byte(target: str):
    def change(name: str, data: bytes) -> bytes:
        if name != target:
            return data
        return data[:100] + bytes([data[100] ^ 0x01]) + data[101:]

    return change


def assert_nothing_written(app) -> None:
    assert table_names(app) == []
    assert files_under(Path(app.config["INSTANCE_PATH"])) == []


@pytest.mark.parametrize("member", ["database/", "instance/ca/"])
def test_a_tampered_member_is_refused_and_nothing_is_written(backed_up, restored_app, member):
    _ref, archive = backed_up
    name = next(n for n in manifest_of(archive)["members"] if n.startswith(member))
    rewrite(archive, change_one_byte(name))

    result = restored_app.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 1
    assert f"{name} does not match its SHA-256" in result.output
    assert_nothing_written(restored_app)


def test_a_foreign_or_damaged_file_is_refused(backed_up, restored_app, tmp_path):
    _ref, archive = backed_up
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        data = b'{"format": "something else"}'
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[:-4096])
    extra = tmp_path / "extra.tar.gz"
    extra.write_bytes(archive.read_bytes())
    with tarfile.open(extra, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar]
    with tarfile.open(extra, "w:gz") as tar:
        for member, data in [*members, (tarfile.TarInfo("instance/secret_key"), b"x")]:
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    plain = tmp_path / "plain.gz"
    plain.write_bytes(gzip.compress(b"not a tar file"))

    runner = restored_app.test_cli_runner()
    for bad, words in (
        (foreign, "of another format"),
        (truncated, "not a readable backup"),
        (extra, "which its manifest does not list"),
        (plain, "not a readable backup"),
    ):
        result = runner.invoke(args=["restore", str(bad)])
        assert result.exit_code == 1, (bad.name, result.output)
        assert words in result.output, (bad.name, result.output)
        assert_nothing_written(restored_app)


def test_a_database_that_is_not_empty_needs_force(app, backed_up, restored_app):
    ref, archive = backed_up
    runner = restored_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    tables = table_names(restored_app)

    refused = runner.invoke(args=["restore", str(archive)])
    assert refused.exit_code == 1
    assert "the database is not empty" in refused.output
    assert table_names(restored_app) == tables
    assert files_under(Path(restored_app.config["INSTANCE_PATH"])) == []

    forced = runner.invoke(args=["restore", "--force", str(archive)])
    assert forced.exit_code == 0, forced.output
    assert chain_head(restored_app) == chain_head(app)
    assert agreement_sha256(restored_app, ref) == agreement_sha256(app, ref)


def test_usage_and_a_backup_inside_the_instance_folder(runner, instance_path, tmp_path):
    assert runner.invoke(args=["backup"]).exit_code == 2
    assert runner.invoke(args=["restore", str(tmp_path / "missing.tar.gz")]).exit_code == 2
    inside = runner.invoke(args=["backup", str(instance_path / "backup.tar.gz")])
    assert inside.exit_code == 1
    assert "outside the instance folder" in inside.output
    assert not (instance_path / "backup.tar.gz").exists()


def test_pg_tools_get_the_password_from_the_environment_only(monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "the caller's")
    monkeypatch.setenv("PGSERVICE", "elsewhere")
    url = "postgresql+psycopg://ops:s%40cret@db.example.org:6543/it's?sslmode=require"
    dbname, environment = client_settings(url)
    assert dbname == "--dbname=dbname='it\\'s'"
    assert "s@cret" not in dbname
    assert environment["PGPASSWORD"] == "s@cret"
    assert (environment["PGHOST"], environment["PGPORT"]) == ("db.example.org", "6543")
    assert (environment["PGUSER"], environment["PGSSLMODE"]) == ("ops", "require")
    assert "PGSERVICE" not in environment
    _dbname, without = client_settings("postgresql+psycopg://ops@db.example.org/portal")
    assert "PGPASSWORD" not in without


def test_a_manifest_that_disagrees_with_the_restored_chain_fails(backed_up, restored_app):
    _ref, archive = backed_up

    def claim_another_head(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["audit_chain_head"]["last_event_id"] += 1
        return json.dumps(manifest).encode()

    rewrite(archive, claim_another_head)
    result = restored_app.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 1
    assert "restored, but the audit chain ends at event" in result.output


def test_a_backup_of_a_newer_schema_is_refused_before_anything_is_written(backed_up, restored_app):
    _ref, archive = backed_up

    def newer(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        return json.dumps({**json.loads(data), "alembic_revision": "9999"}).encode()

    rewrite(archive, newer)
    result = restored_app.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 1
    assert "revision 9999" in result.output and "newer than this portal's" in result.output
    assert_nothing_written(restored_app)


@pytest.fixture
def older_database_url(tmp_path):
    """A database of its own, migrated to the revision before the newest."""
    if ON_POSTGRES:
        with scratch_postgres_database() as url:
            migrate.upgrade(url, OLDER_REVISION)
            yield url
    else:
        url = f"sqlite:///{tmp_path / 'older.db'}"
        migrate.upgrade(url, OLDER_REVISION)
        yield url


def test_a_backup_of_an_older_schema_restores_and_says_to_upgrade(
    older_database_url, restored_app, tmp_path
):
    older = create_app(
        {
            "TESTING": True,
            "REQUIRE_SECRET_KEY": False,  # as the command line's app
            "DATABASE_URL": older_database_url,
            "INSTANCE_PATH": str(tmp_path / "older-instance"),
        }
    )
    archive = tmp_path / "older.tar.gz"
    try:
        made = older.test_cli_runner().invoke(args=["backup", str(archive)])
        assert made.exit_code == 0, made.output
    finally:
        older.extensions["portal.db"].dispose()
    assert manifest_of(archive)["alembic_revision"] == OLDER_REVISION

    runner = restored_app.test_cli_runner()
    result = runner.invoke(args=["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert f"at revision {OLDER_REVISION}; run `portal db upgrade`" in result.output
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
