"""The states a test's database starts from, made once per run.

Every test starts from the migrated schema with policies/ loaded ("policies"); a test
that asks for the ``nations`` fixture starts with the two fictional Nations and their
datasets ("nations"), and one that asks for ``flow`` with every person of flows.PEOPLE
as well ("people"). Each state is seeded once, through the portal's own services, and
each test gets a copy of it: seeding the Nations and ten people again for every test was
most of a test's setup (0.3 s a test on PostgreSQL, 0.15 s on SQLite, for ~700 tests).

On SQLite a state is a database file, copied for each test. On PostgreSQL it is a copy
of each table's rows in a schema of its own (``seed_<state>``), put back into ``public``
for each test with its sequences where they were.
"""

import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from portal import create_app
from portal.db import make_engine
from portal.models import metadata
from portal.paths import resource_dir
from portal.policy.files import read_directory
from portal.policy.store import replace_file_rules
from portal.policy.versions import first_rules_version

from helpers import seed_nations, seed_people

STATES = ("policies", "nations", "people")
NATIONS = ("red-cedar", "blue-heron")  # what the ``nations`` fixture gives


def state_for(fixturenames: list[str]) -> str:
    """The state a test with these fixtures starts from."""
    if "flow" in fixturenames:
        return "people"
    if "nations" in fixturenames:
        return "nations"
    return "policies"


def holds(started_from: str, state: str) -> bool:
    """Whether a database that started from ``started_from`` holds what ``state`` seeds
    (each state holds the ones before it)."""
    return STATES.index(started_from) >= STATES.index(state)


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


def _seed(url: str, folder: Path, state: str) -> None:
    """Add what ``state`` holds beyond the one before it, through the portal's services."""
    from flows import PEOPLE

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(folder / f"instance-{state}"),
        }
    )
    try:
        if state == "nations":
            assert seed_nations(app) == NATIONS
        elif state == "people":
            seed_people(app, PEOPLE.values())
    finally:
        app.extensions["portal.db"].dispose()


def _delete_every_row(connection: sa.Connection) -> None:
    """The audit tables refuse DELETE (migration 0003): replica mode skips ordinary
    triggers, foreign keys' included, for this one transaction, a superuser's test reset
    that no code path of the portal can do. DELETE, not TRUNCATE: a few rows a table cost
    nothing to delete, while TRUNCATE pays for every table (0.4 s a test)."""
    connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
    for table in reversed(metadata.sorted_tables):
        connection.execute(table.delete())


@dataclass
class SqliteStates:
    files: dict[str, Path]

    @classmethod
    def make(cls, template: Path, folder: Path) -> "SqliteStates":
        """``template``: the migrated database with policies/ loaded."""
        files = {"policies": template}
        for before, state in itertools.pairwise(STATES):
            files[state] = folder / f"{state}.db"
            shutil.copyfile(files[before], files[state])
            _seed(f"sqlite:///{files[state]}", folder, state)
        return cls(files)

    def copy(self, state: str, path: Path) -> str:
        shutil.copyfile(self.files[state], path)
        return f"sqlite:///{path}"


@dataclass
class PostgresStates:
    engine: sa.Engine
    tables: dict[str, list[str]]  # each state's tables that hold rows
    sequences: dict[str, dict[str, int | None]]  # each state's sequences' last values

    @classmethod
    def make(cls, url: str, folder: Path) -> "PostgresStates":
        """``url``: the migrated test database, whose rows are replaced for every test."""
        states = cls(sa.create_engine(url), {}, {})
        for state in STATES:
            if state == "policies":
                with states.engine.begin() as connection:
                    _delete_every_row(connection)
                load_policies(url)
            else:
                _seed(url, folder, state)
            states._keep(state)
        return states

    # The names put into SQL below are the portal's own tables' and sequences' (S608).
    def _keep(self, state: str) -> None:
        schema = f"seed_{state}"
        with self.engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
            self.tables[state] = []
            for table in metadata.sorted_tables:
                if connection.execute(sa.select(sa.func.count()).select_from(table)).scalar():
                    connection.exec_driver_sql(
                        f'CREATE TABLE {schema}."{table.name}" AS SELECT * FROM "{table.name}"'  # noqa: S608
                    )
                    self.tables[state].append(table.name)
            self.sequences[state] = dict(
                connection.exec_driver_sql(
                    "SELECT quote_ident(sequencename), last_value FROM pg_sequences"
                    " WHERE schemaname = 'public'"
                ).all()
            )

    def restore(self, state: str) -> None:
        """The test database as ``state`` left it, its ids going on from there."""
        schema = f"seed_{state}"
        with self.engine.begin() as connection:
            _delete_every_row(connection)
            for name in self.tables[state]:
                copy = f'INSERT INTO "{name}" SELECT * FROM {schema}."{name}"'  # noqa: S608
                connection.exec_driver_sql(copy)
            restart = ", ".join(
                f"setval('{name}', {value}, true)" if value else f"setval('{name}', 1, false)"
                for name, value in self.sequences[state].items()
            )
            if restart:
                connection.exec_driver_sql(f"SELECT {restart}")

    def dispose(self) -> None:
        self.engine.dispose()
