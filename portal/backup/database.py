"""Copy a database out and back in: SQLite through its online backup API (a running
portal goes on), PostgreSQL through pg_dump and pg_restore (custom format).

The password never reaches a command line: pg_dump and pg_restore get every part of
DATABASE_URL through libpq's PG* environment variables (PGPASSWORD among them).
"""

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url

from portal.audit.models import GENESIS_HASH, AuditChainHead
from portal.backup.archive import BackupError, open_partial
from portal.paths import PRIVATE_FILE_MODE, private_dir
from portal.storage.models import StoredFile

SQLITE_MEMBER = "database/portal.sqlite3"
POSTGRES_MEMBER = "database/portal.dump"
# libpq reads these from the environment; the URL's query may carry them.
_QUERY_TO_ENVIRONMENT = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
}


@dataclass(frozen=True)
class DatabaseState:
    revision: str | None  # Alembic's, None before the first migration
    last_event_id: int  # the audit chain head: 0 and GENESIS_HASH for an empty record
    last_hash: str
    # The stored files whose bytes are in the S3-compatible bucket, not in their rows.
    in_bucket: tuple[str, ...] = ()


def kind_of(url: str) -> str:
    """ "sqlite" or "postgresql" (any other database is refused)."""
    kind = make_url(url).get_backend_name()
    if kind not in ("sqlite", "postgresql"):
        raise BackupError(f"backup knows SQLite and PostgreSQL, not {kind}")
    return kind


def member_for(kind: str) -> str:
    return SQLITE_MEMBER if kind == "sqlite" else POSTGRES_MEMBER


def state_of(connection: Connection) -> DatabaseState:
    tables = set(sa.inspect(connection).get_table_names())
    revision = None
    if "alembic_version" in tables:
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    head = None
    if AuditChainHead.__tablename__ in tables:
        head = connection.execute(sa.select(AuditChainHead.__table__)).first()
    in_bucket: tuple[str, ...] = ()
    if StoredFile.__tablename__ in tables:
        query = sa.select(StoredFile.sha256).where(StoredFile.data.is_(None))
        in_bucket = tuple(connection.execute(query.order_by(StoredFile.sha256)).scalars())
    if head is None:
        return DatabaseState(revision, 0, GENESIS_HASH, in_bucket)
    return DatabaseState(revision, head.last_event_id, head.last_hash, in_bucket)


def is_empty(url: str) -> bool:
    """No table at all: a database just created (not even migrated)."""
    if kind_of(url) == "sqlite" and not sqlite_path(url).exists():
        return True
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return not sa.inspect(connection).get_table_names()
    finally:
        engine.dispose()


def dump(url: str, target: Path) -> DatabaseState:
    """Copy the database at ``url`` into the file ``target``; its state in that copy."""
    private_dir(target.parent)
    if kind_of(url) == "sqlite":
        return _dump_sqlite(sqlite_path(url), target)
    return _dump_postgres(url, target)


def load(url: str, source: Path) -> None:
    """Put the copy ``source`` in place of the database at ``url``."""
    if kind_of(url) == "sqlite":
        _load_sqlite(source, sqlite_path(url))
    else:
        _run_postgres(url, "pg_restore", "--clean", "--if-exists", "--single-transaction", source)


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("backup needs an SQLite database in a file")
    return Path(database)


def _dump_sqlite(path: Path, target: Path) -> DatabaseState:
    if not path.is_file():
        raise BackupError(f"there is no database at {path}")
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    source, copy = sqlite3.connect(path, timeout=30), sqlite3.connect(target)
    try:
        source.backup(copy)  # page by page, while the portal goes on writing
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        copy.close()
        source.close()
    engine = sa.create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return state_of(connection)
    finally:
        engine.dispose()


def _load_sqlite(source: Path, path: Path) -> None:
    """Copy in beside the database, then rename over it; the old database's journals
    go, or SQLite would replay them into the restored file."""
    private_dir(path.parent)
    partial, descriptor = open_partial(path)
    with os.fdopen(descriptor, "wb") as out, source.open("rb") as data:
        shutil.copyfileobj(data, out)
    for journal in ("-wal", "-shm", "-journal"):
        Path(f"{path}{journal}").unlink(missing_ok=True)
    os.replace(partial, path)


def _dump_postgres(url: str, target: Path) -> DatabaseState:
    """pg_dump in the snapshot this transaction reads, so the chain head recorded in
    the manifest is the one in the dump, whatever is written meanwhile."""
    engine = sa.create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as connection, connection.begin():
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            state = state_of(connection)
            _run_postgres(url, "pg_dump", "--format=custom", f"--snapshot={snapshot}", "-f", target)
            return state
    finally:
        engine.dispose()


def client_settings(url: str) -> tuple[str, dict[str, str]]:
    """pg_dump's and pg_restore's ``--dbname`` argument and environment for ``url``: every
    part of the URL but the database name (the password among them) in PG* variables,
    none from the caller's environment, so what the command line shows holds no secret."""
    parts = make_url(url)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for name, value in (
        ("PGHOST", parts.host),
        ("PGPORT", parts.port),
        ("PGUSER", parts.username),
        ("PGPASSWORD", parts.password),
    ):
        if value is not None:
            environment[name] = str(value)
    for key, variable in _QUERY_TO_ENVIRONMENT.items():
        if isinstance(value := parts.query.get(key), str):
            environment[variable] = value
    # The database name as a quoted conninfo string, so no name is read as options.
    quoted = (parts.database or "").replace("\\", "\\\\").replace("'", "\\'")
    return f"--dbname=dbname='{quoted}'", environment


def _run_postgres(url: str, program: str, *arguments: str | Path) -> None:
    dbname, environment = client_settings(url)
    command = [program, "--no-owner", dbname, *map(str, arguments)]
    try:
        finished = subprocess.run(  # noqa: S603 (a fixed program; no shell)
            command, env=environment, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise BackupError(f"{program} is not installed (PostgreSQL's client tools)") from None
    if finished.returncode != 0:
        lines = [line for line in finished.stderr.splitlines() if line.strip()]
        raise BackupError(f"{program} failed: {lines[0] if lines else finished.returncode}")
