"""Fixtures: a real database (SQLite file, or PostgreSQL via TEST_DATABASE_URL),
migrated once per run with Alembic and reset for every test; the app; its client;
and helpers to make people and sign them in."""

import os
import shutil
from collections.abc import Iterator

import pytest

# Real Argon2id with small parameters: the production profile costs ~0.3 s a hash.
# Set before the portal is imported (the hasher is built at import).
os.environ.setdefault("PORTAL_PASSWORD_HASH_PROFILE", "CHEAPEST")

import sqlalchemy as sa
from sqlmodel import Session

from portal import create_app, migrate
from portal.auth import service as auth
from portal.db import make_engine, session_scope
from portal.models import metadata
from portal.paths import resource_dir
from portal.policy.files import read_directory
from portal.policy.store import replace_file_rules
from portal.policy.versions import first_rules_version
from portal.registry import service as registry

from helpers import (
    ON_POSTGRES,
    PASSWORD,
    TEST_DATABASE_URL,
    TOTP_SECRET,
    scratch_postgres_database,
    seed_nations,
)


@pytest.fixture
def fresh_database_url(tmp_path) -> Iterator[str]:
    """An empty database of the backend under test, for tests that migrate it themselves."""
    if ON_POSTGRES:
        with scratch_postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"


def load_policies(url: str) -> None:
    """Put policies/ into the database as `portal policy load` does, less its audit
    event: every test starts with the real rules and an empty record."""
    engine = make_engine(url)
    lines, problems = read_directory(resource_dir("policies"))
    assert problems == [], problems
    try:
        with Session(engine) as session:
            replace_file_rules(session, [(ln.source, ln.ptype, list(ln.values)) for ln in lines])
            session.add(first_rules_version([(ln.ptype, *ln.values) for ln in lines]))
            session.commit()
    finally:
        engine.dispose()


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
    load_policies(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def database_url(migrated_template, tmp_path) -> str:
    """A migrated database for one test: empty but for the policies/ lines."""
    if ON_POSTGRES:
        engine = sa.create_engine(migrated_template)
        with engine.begin() as connection:
            # The audit tables refuse DELETE (migration 0003). Replica mode skips
            # ordinary triggers, foreign keys' included, for this one transaction: a
            # superuser's test reset, which no code path of the portal can do. DELETE,
            # not TRUNCATE: a few rows a table cost nothing to delete, while TRUNCATE
            # pays for every table (0.4 s a test, some ten minutes a run).
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
            sequences = connection.exec_driver_sql(
                "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public'"
            ).scalars()
            restart = ", ".join(f"setval('{name}', 1, false)" for name in sequences)
            if restart:  # the ids each test sees start at 1, as after RESTART IDENTITY
                connection.exec_driver_sql(f"SELECT {restart}")
        engine.dispose()
        load_policies(migrated_template)
        return migrated_template
    path = tmp_path / "portal.db"
    shutil.copyfile(migrated_template, path)
    return f"sqlite:///{path}"


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
def nations(app):
    """Two fictional Nations and three datasets: one each, and one shared."""
    return seed_nations(app)


@pytest.fixture
def flow(app, nations, make_user):
    """Every role of the workflow, for two fictional Nations (see tests/flows.py)."""
    from flows import PEOPLE, Flow

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
