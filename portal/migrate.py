"""Alembic, driven from Python: ``portal db ...`` and the tests use these."""

import functools
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal.paths import resource_dir


def alembic_config(database_url: str, instance: Path | None = None) -> Config:
    """``instance``: the instance folder a data migration reads (0012 moves the agreement
    files found there into the database); without it, PORTAL_INSTANCE's."""
    config = Config()
    if instance is not None:
        config.attributes["instance_path"] = str(instance)
    config.set_main_option("script_location", str(resource_dir("migrations")))
    # Revisions are numbered (0001_initial_schema.py, ...) so the folder reads in order.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    # ConfigParser would read "%" in a password as interpolation.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head", instance: Path | None = None) -> None:
    command.upgrade(alembic_config(database_url, instance), revision)


def downgrade(database_url: str, revision: str, instance: Path | None = None) -> None:
    command.downgrade(alembic_config(database_url, instance), revision)


def revision(database_url: str, message: str, rev_id: str, autogenerate: bool = True) -> None:
    command.revision(
        alembic_config(database_url), message=message, rev_id=rev_id, autogenerate=autogenerate
    )


@functools.cache
def head_revision() -> str | None:
    """The newest migration's revision (this code's schema); read once per process."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def database_revision(connection: sa.Connection) -> str | None:
    """The revision the database was last migrated to (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()
