"""Migrations: they apply on the backend under test, they can be undone, and they
describe exactly the models (a model change without a revision fails here)."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal import migrate
from portal.db import make_engine
from portal.models import metadata


def head_revision(url: str) -> str:
    return ScriptDirectory.from_config(migrate.alembic_config(url)).get_current_head()


def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def test_migrations_apply_to_an_empty_database(fresh_database_url):
    migrate.upgrade(fresh_database_url)
    assert current_revision(fresh_database_url) == head_revision(fresh_database_url)
    engine = make_engine(fresh_database_url)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {t.name for t in metadata.sorted_tables} <= tables


def test_upgrade_is_idempotent(fresh_database_url):
    migrate.upgrade(fresh_database_url)
    migrate.upgrade(fresh_database_url)
    assert current_revision(fresh_database_url) == head_revision(fresh_database_url)


def test_models_and_migrations_do_not_drift(fresh_database_url):
    migrate.upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == [], (
        "the models differ from the migrations; write a revision "
        f"(portal db revision -m ... --rev-id NNNN): {differences}"
    )


def test_every_revision_can_be_undone_and_redone(fresh_database_url):
    migrate.upgrade(fresh_database_url)
    migrate.downgrade(fresh_database_url, "base")
    engine = make_engine(fresh_database_url)
    leftover = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert leftover == set()
    migrate.upgrade(fresh_database_url)
    assert current_revision(fresh_database_url) == head_revision(fresh_database_url)


def test_revisions_form_one_line(fresh_database_url):
    scripts = ScriptDirectory.from_config(migrate.alembic_config(fresh_database_url))
    assert len(scripts.get_heads()) == 1, "two migrations claim the same parent: relink one"
