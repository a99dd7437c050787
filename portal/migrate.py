"""Alembic, driven from Python: ``portal db ...`` and the tests use these."""

from alembic import command
from alembic.config import Config

from portal.paths import resource_dir


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    # Revisions are numbered (0001_initial_schema.py, ...) so the folder reads in order.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    # ConfigParser would read "%" in a password as interpolation.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str, rev_id: str, autogenerate: bool = True) -> None:
    command.revision(
        alembic_config(database_url), message=message, rev_id=rev_id, autogenerate=autogenerate
    )
