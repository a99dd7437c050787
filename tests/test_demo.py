"""`portal demo --no-serve`, run through the installed console script against a fresh
database: a fictional demo, one login per role, a kept secret key, and a second run
that changes nothing."""

import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from portal import create_app
from portal.auth import service as auth
from portal.auth.models import Role, User
from portal.db import make_engine, session_scope
from portal.models import metadata
from portal.registry.models import Dataset, Nation
from portal.requests.models import AccessRequest

from helpers import ON_POSTGRES, scratch_postgres_database, sign_in

PORTAL = Path(sys.executable).parent / "portal"
LOGIN_LINE = re.compile(
    r"^\s+(?P<email>\S+@\S+)\s+(?P<role>[a-z]+)(?: · (?P<nation>[a-z0-9-]+))?\s*$"
)
PASSWORD_LINE = re.compile(r"^.*password: (?P<password>\S+)\s*$", re.IGNORECASE)
# What each framework is for (README): First Nations, Métis, Inuit.
PEOPLES = {"OCAP": "First Nation", "OCAS": "Métis", "CARE": "Inuit"}


@dataclass
class Login:
    email: str
    role: str
    nation: str | None


@dataclass
class DemoRuns:
    database_url: str
    instance: Path
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess
    after_first: dict[str, list[tuple]]
    after_second: dict[str, list[tuple]]
    key_after_first: tuple[bytes, int, int]  # content, mode, mtime
    key_after_second: tuple[bytes, int, int]

    @property
    def logins(self) -> list[Login]:
        return [
            Login(m["email"], m["role"], m["nation"])
            for m in map(LOGIN_LINE.match, self.first.stdout.splitlines())
            if m
        ]

    @property
    def password(self) -> str:
        found = [
            m["password"] for m in map(PASSWORD_LINE.match, self.first.stdout.splitlines()) if m
        ]
        assert len(found) == 1, self.first.stdout
        return found[0]


@contextmanager
def demo_database(folder: Path) -> Iterator[str]:
    """An empty database of the backend under test (as the fresh_database_url fixture)."""
    if ON_POSTGRES:
        with scratch_postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{folder / 'demo.db'}"


def snapshot(database_url: str) -> dict[str, list[tuple]]:
    """Every row of every table, ordered by primary key, and the schema version."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = {
                table.name: [
                    tuple(row)
                    for row in connection.execute(
                        sa.select(table).order_by(*table.primary_key.columns)
                    )
                ]
                for table in metadata.sorted_tables
            }
            rows["alembic_version"] = [
                tuple(row)
                for row in connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            ]
            return rows
    finally:
        engine.dispose()


def key_state(path: Path) -> tuple[bytes, int, int]:
    status = path.stat()
    return path.read_bytes(), stat.S_IMODE(status.st_mode), status.st_mtime_ns


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[DemoRuns]:
    """Run `portal demo --no-serve` twice on one fresh database and instance folder."""
    assert PORTAL.is_file(), f"the console script is not installed at {PORTAL}"
    folder = tmp_path_factory.mktemp("demo")
    instance = folder / "instance"
    with demo_database(folder) as database_url:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"SECRET_KEY", "DATABASE_URL", "PORTAL_INSTANCE", "SECURE_COOKIES"}
            and not key.startswith("FLASK_")
        }
        env |= {"PORTAL_INSTANCE": str(instance), "DATABASE_URL": database_url}

        def run() -> subprocess.CompletedProcess:
            return subprocess.run(
                [str(PORTAL), "demo", "--no-serve"],
                capture_output=True,
                text=True,
                env=env,
                cwd=folder,
                timeout=180,
                check=False,
            )

        assert not instance.exists()
        first = run()
        assert first.returncode == 0, first.stderr
        after_first = snapshot(database_url)
        key_after_first = key_state(instance / "secret_key")
        second = run()
        assert second.returncode == 0, second.stderr
        yield DemoRuns(
            database_url=database_url,
            instance=instance,
            first=first,
            second=second,
            after_first=after_first,
            after_second=snapshot(database_url),
            key_after_first=key_after_first,
            key_after_second=key_state(instance / "secret_key"),
        )


@pytest.fixture
def demo_app(demo, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": demo.database_url,
            "INSTANCE_PATH": str(tmp_path / "web"),
            "SECRET_KEY": "test-secret-key",
            "SESSION_COOKIE_SECURE": False,
        }
    )
    yield app
    app.extensions["portal.db"].dispose()


def test_the_demo_prints_the_logins_and_says_it_is_fictional(demo):
    for run in (demo.first, demo.second):
        assert run.returncode == 0
        assert run.stderr == ""
    assert "FICTIONAL" in demo.first.stdout.upper()
    assert demo.password == "demo-password", "the password README.md promises"
    assert len(demo.logins) >= len(Role)
    assert demo.second.stdout == demo.first.stdout


def test_there_is_one_login_for_every_role(demo):
    printed = {login.role for login in demo.logins}
    assert printed == {role.value for role in Role}
    emails = [login.email for login in demo.logins]
    assert len(emails) == len(set(emails)), "one line per login"
    for login in demo.logins:
        assert (login.nation is not None) == Role(login.role).per_nation, login


def test_three_nations_one_per_framework(demo_app):
    with demo_app.app_context(), session_scope() as session:
        nations = session.exec(select(Nation.framework, Nation.name)).all()
    assert sorted(framework for framework, _name in nations) == sorted(PEOPLES)
    for framework, name in nations:
        assert PEOPLES[framework] in name, name


def test_every_seeded_name_is_labelled_fictional(demo_app):
    with demo_app.app_context(), session_scope() as session:
        nation_names = session.exec(select(Nation.name)).all()
        datasets = session.exec(select(Dataset.title, Dataset.custodian)).all()
        institutions = session.exec(select(User.institution)).all()
        request_titles = session.exec(select(AccessRequest.title)).all()
    assert nation_names and datasets and institutions and request_titles
    for name in nation_names:
        assert name.endswith("(fictional)"), name
    for title, custodian in datasets:
        assert title.endswith("(fictional)"), title
        assert custodian.endswith("(fictional)"), custodian
    for institution in institutions:
        assert "(fictional)" in institution, institution
    for title in request_titles:
        assert "fictional" in title.lower(), title


def test_each_login_holds_exactly_the_roles_printed(demo, demo_app):
    """The demo password opens the printed logins and nothing else, and each of them
    holds only the role shown beside it."""
    with demo_app.app_context(), session_scope() as session:
        all_emails = set(session.exec(select(User.email)).all())
        assert all_emails == {login.email for login in demo.logins}, "no hidden accounts"
        for login in demo.logins:
            user = auth.get_user(session, login.email)
            held = [(str(role), n.slug if n else None) for role, n in auth.roles_of(session, user)]
            assert held == [(login.role, login.nation)], login
        for nation in session.exec(select(Nation)).all():
            stewards = [x for x in demo.logins if (x.role, x.nation) == ("steward", nation.slug)]
            reps = [x for x in demo.logins if (x.role, x.nation) == ("representative", nation.slug)]
            assert len(stewards) >= nation.review_quorum, f"{nation.slug} could never approve"
            assert reps, f"nobody can decide for {nation.slug}"


def test_a_printed_login_signs_in_through_the_web_app(demo, demo_app):
    with demo_app.app_context(), session_scope() as session:
        nation_names = {n.slug: n.name for n in session.exec(select(Nation)).all()}
    one_per_role = {login.role: login for login in demo.logins}
    for login in one_per_role.values():
        client = demo_app.test_client()
        wrong = sign_in(client, login.email, demo.password + "x")
        assert wrong.status_code == 401
        response = sign_in(client, login.email, demo.password)
        assert response.status_code == 302, login
        page = client.get("/").get_data(as_text=True)
        badges = re.findall(r'<li class="role-badge">([^<]*)</li>', page)
        label = Role(login.role).label
        expected = f"{label} · {nation_names[login.nation]}" if login.nation else label
        assert [badge.strip() for badge in badges] == [expected], login


def test_the_secret_key_is_kept_private_and_not_regenerated(demo):
    content, mode, _mtime = demo.key_after_first
    assert mode == 0o600
    assert len(content.strip()) >= 32
    assert demo.key_after_second == demo.key_after_first, "the second run keeps the key"
    assert content.decode().strip() not in demo.first.stdout + demo.first.stderr


def test_running_it_again_changes_nothing(demo):
    counts = {table: len(rows) for table, rows in demo.after_first.items()}
    assert counts["nation"] == 3
    assert counts["user_account"] == len(demo.logins)
    assert counts["role_membership"] == len(demo.logins)
    assert counts["dataset"] > 0 and counts["dataset_nation"] >= counts["dataset"]
    assert demo.after_second == demo.after_first
