"""Alembic environment: runs the migrations in versions/ against the portal's database.

The URL comes from whoever built the Alembic config (``portal db upgrade`` and the
tests pass it in); run by hand, it falls back to the portal's own settings.
"""

from alembic import context
from sqlmodel import SQLModel

import portal.models  # noqa: F401  (registers every table on SQLModel.metadata)
from portal import config as portal_config
from portal.db import make_engine

alembic_config = context.config
target_metadata = SQLModel.metadata


def database_url() -> str:
    return (
        alembic_config.get_main_option("sqlalchemy.url")
        or portal_config.from_environment()["DATABASE_URL"]
    )


def configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    configure(url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = alembic_config.attributes.get("connection")
    if connection is not None:
        configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # Foreign keys off on SQLite while batch mode rebuilds tables; checked afterwards.
    engine = make_engine(database_url(), foreign_keys=False)
    try:
        with engine.connect() as connection:
            configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
            if connection.dialect.name == "sqlite":
                problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise RuntimeError(f"foreign keys broken by the migration: {problems}")
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
