"""The database: engine, one session per request, and the column types we share.

A request gets one session (``get_session()``); it is committed once, after the
handler has produced a successful response, and rolled back otherwise, so a
refused action or a form with errors writes nothing. Services flush, never commit.
Code outside a request (the CLI, tests) uses ``session_scope()`` instead.

On SQLite a request that only reads never takes the write lock (see ``get_session``):
GET and HEAD read in a deferred transaction, which may not write; any other method
begins IMMEDIATE. A GET that writes (an audited download) says so with ``@writes``; a
step that does slow work before it writes (a signature) says ``@reads_first`` and calls
``start_writing()`` when it is ready to write.
"""

import enum
import json
import os
import re
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel
from werkzeug.routing import IntegerConverter

from portal.paths import PRIVATE_FILE_MODE

# Constraint names are stable across SQLite and PostgreSQL, so migrations can
# refer to them (SQLite's batch mode needs names to drop anything).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

EXTENSION_KEY = "portal.db"
READER_KEY = "portal.db.reader"
# Execution option of a connection that only reads, in one snapshot (see make_engine).
READ_SNAPSHOT = "portal_read_snapshot"
# How a web request's session works (get_session), kept in Session.info[MODE]:
READS = "reads"  # only reads: a deferred transaction, in which a write is an error
WRITES = "writes"  # writes: BEGIN IMMEDIATE, the write lock before the first read
READS_FIRST = "reads_first"  # reads (slow work outside the lock), then start_writing()
MODE = "portal.db.mode"
_VIEW_MODE = "portal_db_mode"  # the attribute @writes and @reads_first set on a view
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITING_SQL = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.I)


class WriteWhileReading(RuntimeError):
    """A statement that writes, sent on a connection that only reads: a GET that writes
    and does not say so (``@writes``), or a step that writes before ``start_writing()``."""


def json_text(value) -> str:
    """The one JSON spelling of ``value``: sorted keys, compact, ASCII, no NaN.

    Every JSON column is stored this way. The audit chain hashes this spelling of
    an event's details, so ``portal audit verify`` can hash the stored text as it is.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


# A moment the clock is pinned to in the current context (see pinned_clock), or None.
_pinned_now: ContextVar[datetime | None] = ContextVar("portal_pinned_now", default=None)


def utcnow() -> datetime:
    """Now, in UTC: every time the portal stamps (events, decisions, updates) comes from here."""
    return _pinned_now.get() or datetime.now(UTC)


@contextmanager
def pinned_clock(moment: datetime) -> Iterator[None]:
    """Make utcnow() return ``moment`` within this block, in this context only: for
    tests that need known durations between events, never used by the portal itself."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; pin the clock to an aware UTC time")
    token = _pinned_now.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _pinned_now.reset(token)


class UTCDateTime(sa.TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database.

    PostgreSQL keeps ``timestamptz``; SQLite has no zone, so we store UTC and
    put the zone back on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use portal.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_type(enum_class: type[enum.Enum], name: str) -> sa.Enum:
    """An enum stored as VARCHAR with a CHECK constraint (no native ENUM types).

    Values, not member names, are stored, so the database reads as the API does.
    """
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_class),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


# The ids are INTEGER columns. A larger number (in a link, a form or an API body) names
# no row, and the drivers refuse to send it (SQLite: OverflowError; PostgreSQL: an out of
# range error), so every lookup by a number someone typed asks this first: 404, not 500.
LARGEST_ID = 2**31 - 1


def could_be_id(value: object) -> bool:
    """Whether ``value`` could be a row's id (or a rules version's number)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= LARGEST_ID


class _IdConverter(IntegerConverter):
    """``<int:...>`` in a route: a number no row can have matches no route (404)."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


def _create_private(database: str | None) -> None:
    """Create an SQLite database file 0600 before SQLite does (it would follow the umask);
    its -wal and -shm files take the database file's mode."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists() and path.parent.is_dir():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))


def make_engine(url: str, *, foreign_keys: bool = True) -> Engine:
    """An engine for ``url``. SQLite gets WAL, a busy timeout and (unless a
    migration asks otherwise) enforced foreign keys."""
    if not url.startswith("sqlite"):
        engine = sa.create_engine(url, pool_pre_ping=True, json_serializer=json_text)
        _refuse_writes_while_reading(engine)
        return engine

    _create_private(sa.engine.make_url(url).database)
    engine = sa.create_engine(url, connect_args={"timeout": 30}, json_serializer=json_text)
    _refuse_writes_while_reading(engine)

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection, _record) -> None:
        # Let SQLAlchemy decide when transactions begin (see _begin_immediately).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediately(connection) -> None:
        # Take the write lock at the start: a read-then-write transaction can
        # otherwise fail with SQLITE_BUSY instead of waiting its turn, and two
        # workflow transitions would not be serialised.
        if connection.get_execution_options().get(READ_SNAPSHOT):
            # Reading only (a page, ``portal audit verify``): a snapshot, no write lock,
            # so a long read never makes a writer wait. It must not write: a deferred
            # transaction that reads and then writes cannot wait for the lock (SQLite
            # answers SQLITE_BUSY at once), hence _refuse_writes_while_reading.
            connection.exec_driver_sql("BEGIN DEFERRED")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _refuse_writes_while_reading(engine: Engine) -> None:
    """On both databases, so a GET that writes without saying so fails in every test
    run, not only now and then under load on SQLite."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(connection, _cursor, statement, _parameters, _context, _many) -> None:
        if _WRITING_SQL.match(statement) and connection.get_execution_options().get(READ_SNAPSHOT):
            raise WriteWhileReading(
                "a write on a connection that only reads: mark the view @writes "
                f"(or call start_writing() first): {statement.split(None, 3)[:3]}"
            )


def writes(view: Callable) -> Callable:
    """Mark a GET view that writes (an audited download): its session takes the write
    lock before its first read, so it never has to upgrade a read (SQLITE_BUSY). Put it
    below @login_required and the route, which copy it onto the view they wrap."""
    setattr(view, _VIEW_MODE, WRITES)
    return view


def reads_first(view: Callable) -> Callable:
    """Mark a view that reads, does slow work outside the write lock, then calls
    ``start_writing()`` before it writes (signing: portal.workflow.perform_ahead)."""
    setattr(view, _VIEW_MODE, READS_FIRST)
    return view


def view_mode(view: Callable) -> str | None:
    """What @writes or @reads_first said of ``view`` or of a view it wraps (None: the
    method decides)."""
    while view is not None:
        if (mode := getattr(view, _VIEW_MODE, None)) is not None:
            return mode
        view = getattr(view, "__wrapped__", None)
    return None


def with_view_mode(view: Callable, mode: str | None) -> Callable:
    if mode is not None:
        setattr(view, _VIEW_MODE, mode)
    return view


class TransactionCache:
    """What a page reads again and again in one transaction (a request's tracks, a
    Nation's stewards), kept in ``session.info`` under ``name``: forgotten when the
    transaction ends, or as soon as the session holds a change to any of ``sources``
    (the models the values are read from), before that change is flushed. The portal
    writes these models through the ORM only, so no change escapes it."""

    names: set[str] = set()

    def __init__(self, name: str, sources: tuple[type, ...]) -> None:
        self.name = name
        self.sources = sources
        TransactionCache.names.add(name)
        event.listen(OrmSession, "before_flush", self._forget_on_change)
        event.listen(OrmSession, "after_transaction_end", self._forget_at_end)

    def _pending(self, session: OrmSession) -> bool:
        if not (session._new or session._deleted or session.identity_map._modified):
            return False  # nothing changed at all: the common case, asked many times a page
        changed = (*session.new, *session.deleted, *session.dirty)
        return any(isinstance(item, self.sources) for item in changed)

    def __call__(self, session: OrmSession) -> dict:
        if self._pending(session):  # not flushed yet: read afresh (the query flushes it)
            session.info.pop(self.name, None)
        return session.info.setdefault(self.name, {})

    def _forget_on_change(self, session: OrmSession, _context, _instances) -> None:
        if self._pending(session):
            session.info.pop(self.name, None)

    def _forget_at_end(self, session: OrmSession, transaction) -> None:
        if transaction.parent is None:
            session.info.pop(self.name, None)


def forget_cached(session: OrmSession) -> None:
    """Forget every TransactionCache of this transaction: a row just locked for a change
    is read afresh, with what other transactions committed before the lock."""
    for name in TransactionCache.names:
        session.info.pop(name, None)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions[EXTENSION_KEY] = engine
    # The same pool, its connections marked as reading only (BEGIN DEFERRED on SQLite).
    reader = engine.execution_options(**{READ_SNAPSHOT: True})
    _readers[reader] = engine
    app.extensions[READER_KEY] = reader
    app.after_request(_finish_request)
    app.teardown_request(_close_session)
    app.url_map.converters["int"] = _IdConverter  # before any blueprint adds its routes


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions[EXTENSION_KEY]


# Each app's reading engine, to the engine it reads through (see engine_of).
_readers: "weakref.WeakKeyDictionary[Engine, Engine]" = weakref.WeakKeyDictionary()


def engine_of(session: Session) -> Engine:
    """The app's engine behind ``session``, whether it reads or writes: what per-engine
    settings (the agreements' folders, the policy store) are filed under."""
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)  # a Connection's engine
    return _readers.get(engine, engine)


def get_session() -> Session:
    """The session of the current request (or app context), opened on first use: one
    that only reads for a GET or HEAD (unless its view says @writes), else one that
    writes. On PostgreSQL both begin alike; only a write while reading is refused."""
    if "db_session" not in g:
        mode = _request_mode()
        bind = get_engine() if mode == WRITES else current_app.extensions[READER_KEY]
        g.db_session = Session(bind)
        g.db_session.info[MODE] = mode
    return g.db_session


def _request_mode() -> str:
    if not has_request_context():
        return WRITES
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    declared = view_mode(view) if view is not None else None
    return declared or (READS if request.method in READ_METHODS else WRITES)


def start_writing(session: Session) -> None:
    """End a @reads_first request's reading: what it read is let go (and read again on
    use), and the next statement begins the write transaction, which must check that
    what the slow work was computed from has not changed. No-op if already writing."""
    if session.info.get(MODE, WRITES) == WRITES:
        return
    session.rollback()
    session.bind = get_engine()
    session.info[MODE] = WRITES


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once this request's transaction has committed (never if it
    rolls back): for work that must only follow a change that really happened."""
    g.setdefault("after_commit", []).append(callback)


def commit_despite_error() -> None:
    """Keep what this request wrote although it answers with an error status: only for
    a record of the failure itself (a failed sign-in's audit event), written after
    anything that should not be kept."""
    g.commit_despite_error = True


def _finish_request(response: Response) -> Response:
    """Commit once when the handler succeeded; anything else writes nothing."""
    session = g.pop("db_session", None)
    callbacks = g.pop("after_commit", [])
    keep = g.pop("commit_despite_error", False)
    if session is None:
        return response
    try:
        if response.status_code < 400 or keep:
            session.commit()
        else:
            session.rollback()
            callbacks = []
    finally:
        session.close()
    for callback in callbacks:
        try:
            callback()
        except Exception:  # the change is committed; a failed follow-up must not undo the reply
            current_app.logger.exception("after-commit callback failed")
    return response


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


@contextmanager
def session_scope(app: Flask | None = None) -> Iterator[Session]:
    """A session committed when the block ends, rolled back if it raises (CLI, jobs)."""
    with Session(get_engine(app)) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
