"""Read the whole chain in id order, fast and in constant memory, for ``verify``.

Two ordered streams, merged as they go: the events, and the Nations each concerns.
On PostgreSQL each comes from its own connection, the second sharing the first's
snapshot, so both stream at once (libpq's chunked rows, or a server-side cursor
with an older libpq); SQLite steps through two cursors as rows are read.

The hash is recomputed from the text the database holds: the timestamp spelt by
the database as the chain spells it, the details as stored (every JSON value is
stored in its canonical spelling, see ``portal.db.json_text``). Only if that does
not hash right are the timestamp and details parsed and spelt again, so a
different spelling of the same content does not count as an alteration.
"""

import json
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from hashlib import sha256

import psycopg
from sqlalchemy.engine import Connection, Engine

from portal.audit.chain import canonical_content, canonical_json, content_hash, timestamp

BATCH_SIZE = 10_000

# An event as the walk sees it: (id, prev_hash, hash, whether its content hashes right).
Link = tuple[int, str, str, bool]

_ISO_TIMESTAMP = {  # what chain.timestamp() makes of the stored value
    "postgresql": "to_char(occurred_at AT TIME ZONE 'UTC', "
    """'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')""",
    "sqlite": "replace(occurred_at, ' ', 'T') || '+00:00'",  # stored as UTC with microseconds
}
_EVENTS = """SELECT id, {timestamp}, actor_id, actor_label, action, request_id,
    CAST(details AS TEXT), client_address, prev_hash, hash FROM audit_event ORDER BY id"""
_NATIONS = "SELECT event_id, nation_id FROM audit_event_nation ORDER BY event_id, nation_id"
_NO_MORE = (float("inf"), None)  # after the last Nation row


@contextmanager
def chain_rows(engine: Engine, connection: Connection):
    """(event rows, nation rows), read in ``connection``'s transaction (begun already).
    Both streams are closed on the way out, read to the end or not: an open stream
    holds its connection."""
    events_sql = _EVENTS.format(timestamp=_ISO_TIMESTAMP[connection.dialect.name])
    if connection.dialect.name != "postgresql":
        driver_connection = connection.connection.driver_connection
        with _closing_both(
            _pages(driver_connection.cursor(), events_sql),
            _pages(driver_connection.cursor(), _NATIONS),
        ) as streams:
            yield streams
        return
    snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
    with engine.connect() as side:
        side.execution_options(isolation_level="REPEATABLE READ")
        with side.begin():
            side.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            with _closing_both(
                _postgres_rows(connection, events_sql, "audit_verify_events"),
                _postgres_rows(side, _NATIONS, "audit_verify_nations"),
            ) as streams:
                yield streams


@contextmanager
def _closing_both(events: Generator, nations: Generator):
    try:
        yield events, nations
    finally:
        events.close()
        nations.close()


def _postgres_rows(connection: Connection, sql: str, name: str) -> Iterator[tuple]:
    driver_connection = connection.connection.driver_connection
    if psycopg.pq.version() >= 170000:  # chunked rows: the fastest way to stream
        yield from driver_connection.cursor().stream(sql, size=BATCH_SIZE)
    else:
        yield from _pages(driver_connection.cursor(name=name), sql)


def _pages(cursor, sql: str) -> Iterator[tuple]:
    # A page at a time: the drivers' own row-by-row iteration costs more per row.
    cursor.execute(sql)
    try:
        while page := cursor.fetchmany(BATCH_SIZE):
            yield from page
    finally:
        cursor.close()


def chain_links(
    events: Iterator[tuple], nations: Iterator[tuple], rechecked: list[int]
) -> Iterator[Link]:
    """Every event in id order with its hash checked; the ids of events that needed
    a second look go to ``rechecked``."""
    pending = next(nations, _NO_MORE)
    for row in events:
        event_id, moment, actor_id, label, action, request_id, details, address, prev, stored = row
        nation_ids = []
        while pending[0] < event_id:  # links to an event that is not there
            pending = next(nations, _NO_MORE)
        while pending[0] == event_id:
            nation_ids.append(pending[1])
            pending = next(nations, _NO_MORE)
        try:
            content = canonical_content(
                event_id=event_id,
                occurred_at=moment,
                actor_id=actor_id,
                actor_label=label,
                action=action,
                request_id=request_id,
                nation_ids=nation_ids,
                details_json=details,
                client_address=address,
                prev_hash=prev,
            )
            matches = sha256(content.encode()).hexdigest() == stored  # chain.content_hash
        except (TypeError, ValueError):  # a NULL or a type no event is written with
            matches = False
        if not matches:
            rechecked.append(event_id)
            matches = _hashes_respelt(row, nation_ids)
        yield event_id, prev, stored, matches


def _hashes_respelt(row: tuple, nation_ids: list[int]) -> bool:
    """Whether the event hashes right once its timestamp and details are spelt anew."""
    event_id, moment, actor_id, label, action, request_id, details, address, prev, stored = row
    try:
        moment = datetime.fromisoformat(moment)
        content = canonical_content(
            event_id=event_id,
            occurred_at=timestamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC)),
            actor_id=actor_id,
            actor_label=label,
            action=action,
            request_id=request_id,
            nation_ids=nation_ids,
            details_json=canonical_json(json.loads(details)),
            client_address=address,
            prev_hash=prev,
        )
    except (TypeError, ValueError):  # not a timestamp, not JSON, a NULL where none belongs
        return False
    return content_hash(content) == stored
