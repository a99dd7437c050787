"""Fixtures: a real database (SQLite file, or PostgreSQL via TEST_DATABASE_URL),
migrated once per run with Alembic and reset for every test; the app; its client;
and helpers to make people and sign them in."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Real Argon2id with small parameters: the production profile costs ~0.3 s a hash.
# Set before the portal is imported (the hasher is built at import).
os.environ.setdefault("PORTAL_PASSWORD_HASH_PROFILE", "CHEAPEST")

import routes_compiled_once
import seeds
import sqlalchemy as sa

from portal import create_app, migrate
from portal.auth import service as auth
from portal.db import session_scope
from portal.registry import service as registry

from helpers import (
    ON_POSTGRES,
    PASSWORD,
    TEST_DATABASE_URL,
    TOTP_SECRET,
    scratch_postgres_database,
    seed_nations,
)

routes_compiled_once.install()


@pytest.fixture
def fresh_database_url(tmp_path) -> Iterator[str]:
    """An empty database of the backend under test, for tests that migrate it themselves."""
    if ON_POSTGRES:
        with scratch_postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> str:
    """Migrate once per run: a template SQLite file, or the PostgreSQL test database."""
    if ON_POSTGRES:
        engine = sa.create_engine(TEST_DATABASE_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
        migrate.upgrade(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("template") / "portal.db"
    migrate.upgrade(f"sqlite:///{path}")
    seeds.load_policies(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def seeded_states(migrated_template, tmp_path_factory):
    """The states tests start from (tests/seeds.py), each seeded once per run."""
    folder = tmp_path_factory.mktemp("seeds")
    if not ON_POSTGRES:
        yield seeds.SqliteStates.make(Path(migrated_template), folder)
        return
    states = seeds.PostgresStates.make(migrated_template, folder)
    yield states
    states.dispose()


SEEDED = pytest.StashKey[str]()  # the state a test's database started from


@pytest.fixture
def database_url(request, seeded_states, migrated_template, tmp_path) -> str:
    """A migrated database for one test, with the policies/ lines, and the Nations and
    people already there if the test asks for the ``nations`` or ``flow`` fixture."""
    state = seeds.state_for(request.fixturenames)
    request.node.stash[SEEDED] = state
    if ON_POSTGRES:
        seeded_states.restore(state)
        return migrated_template
    return seeded_states.copy(state, tmp_path / "portal.db")


@pytest.fixture
def instance_path(tmp_path):
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def app(database_url, instance_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(instance_path),
            "SESSION_COOKIE_SECURE": False,  # the test client speaks plain HTTP
            "MAIL_SEND_AFTER_REQUEST": False,  # tests deliver the outbox themselves
        }
    )
    yield app
    app.extensions["portal.db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """make_user(email, ("steward", "nation-slug"), "researcher", ...) -> the user's id.
    Someone whose roles require two-factor sign-in has it set up with TOTP_SECRET
    (helpers.sign_in gives the code) unless ``two_factor=False``."""

    def make(
        email: str,
        *roles,
        name: str | None = None,
        password: str = PASSWORD,
        two_factor: bool = True,
    ) -> int:
        from portal.auth import twofactor

        with app.app_context(), session_scope() as session:
            user = auth.create_user(session, email, name or email.split("@")[0], password)
            for role in roles:
                role, nation_slug = role if isinstance(role, tuple) else (role, None)
                nation = registry.get_nation(session, nation_slug) if nation_slug else None
                auth.grant_role(session, user, role, nation)
            if two_factor and twofactor.two_factor_required(session, user):
                twofactor.enable_with_secret(session, user, TOTP_SECRET)
            return user.id

    return make


@pytest.fixture
def nations(request, app):
    """Two fictional Nations and three datasets: one each, and one shared (seeded
    already, unless this test's database_url is one of its own)."""
    if seeds.holds(request.node.stash.get(SEEDED, "policies"), "nations"):
        return seeds.NATIONS
    return seed_nations(app)


@pytest.fixture
def flow(request, app, nations, make_user):
    """Every role of the workflow, for two fictional Nations (see tests/flows.py): the
    people are seeded already, unless this test's database_url is one of its own."""
    from flows import PEOPLE, Flow

    if not seeds.holds(request.node.stash.get(SEEDED, "policies"), "people"):
        for email, roles in PEOPLE.values():
            make_user(email, *roles)
    return Flow(app)


# A browser walk's live server and page (tests/browsers.py; skipped without Chromium).
@pytest.fixture
def live_server(app):
    import browsers

    with browsers.live_server(app) as live:
        yield live


@pytest.fixture
def page():
    import browsers

    with browsers.chromium() as browser:
        yield browser.new_context().new_page()
