"""Re-walk the audit chain and name the first event that is not as it was written.

The walk streams events in id order (server-side cursor on PostgreSQL), with the
Nations of each merged in from a second ordered stream, so memory stays constant
however long the record. It reads one snapshot: a REPEATABLE READ transaction on
PostgreSQL, a deferred (non-locking) read transaction on SQLite, so writers go on
while it runs and events appended meanwhile are not mistaken for insertions.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from portal.audit.chain import event_hash
from portal.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent, AuditEventNation
from portal.db import READ_SNAPSHOT

BATCH_SIZE = 5_000

# What can be wrong with an event.
ALTERED = "altered content"
MISSING = "missing"
INSERTED = "inserted"
OUT_OF_ORDER = "out of order"


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    kind: str  # one of the four above
    detail: str

    def __str__(self) -> str:
        return f"event {self.event_id}: {self.kind} ({self.detail})"


@dataclass(frozen=True)
class ChainReport:
    events: int  # how many events were read
    problem: ChainProblem | None  # the first one found, or None: the chain is intact

    @property
    def intact(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class Link:
    """An event as the walk sees it: its place, its links, and whether it hashes right."""

    id: int
    prev_hash: str
    hash: str
    content_matches: bool


def verify_chain(engine: Engine) -> ChainReport:
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        connection.execution_options(**{READ_SNAPSHOT: True})
        with connection.begin():
            head = connection.execute(sa.select(AuditChainHead.__table__)).first()
            return walk(links(connection), head)


def links(connection: Connection, batch_size: int = BATCH_SIZE) -> Iterator[Link]:
    """Every event in id order, its content hash recomputed."""
    events = AuditEvent.__table__
    nations = AuditEventNation.__table__
    event_rows = connection.execute(
        sa.select(events).order_by(events.c.id).execution_options(yield_per=batch_size)
    )
    nation_rows = connection.execute(
        sa.select(nations.c.event_id, nations.c.nation_id)
        .order_by(nations.c.event_id, nations.c.nation_id)
        .execution_options(yield_per=batch_size)
    )
    pending = next(nation_rows, None)
    for row in event_rows:
        nation_ids = []
        # Skip links to events that are not there (a deleted event shows as a gap anyway).
        while pending is not None and pending[0] < row.id:
            pending = next(nation_rows, None)
        while pending is not None and pending[0] == row.id:
            nation_ids.append(pending[1])
            pending = next(nation_rows, None)
        recomputed = event_hash(
            event_id=row.id,
            occurred_at=row.occurred_at,
            actor_id=row.actor_id,
            actor_label=row.actor_label,
            action=row.action,
            request_id=row.request_id,
            nation_ids=nation_ids,
            details=row.details,
            client_address=row.client_address,
            prev_hash=row.prev_hash,
        )
        yield Link(row.id, row.prev_hash, row.hash, recomputed == row.hash)


def walk(chain: Iterator[Link], head) -> ChainReport:
    """Check ids run 1, 2, 3, ..., each event links to the one before, each hashes
    right, and the head records the last. Looks one event ahead to tell a swap."""
    count, previous_id, previous_hash, hash_before = 0, 0, GENESIS_HASH, None
    event = next(chain, None)
    while event is not None:
        following = next(chain, None)
        problem = _check(event, following, previous_id, previous_hash, hash_before)
        if problem is not None:
            return ChainReport(count, problem)
        count += 1
        previous_id, hash_before, previous_hash = event.id, previous_hash, event.hash
        event = following
    return ChainReport(count, _check_head(head, count, previous_id, previous_hash))


def _check(
    event: Link,
    following: Link | None,
    previous_id: int,
    previous_hash: str,
    hash_before: str | None,
) -> ChainProblem | None:
    expected_id = previous_id + 1
    if event.id != expected_id:
        if previous_id == 0:
            return ChainProblem(expected_id, MISSING, f"the chain starts at event {event.id}")
        detail = f"after event {previous_id} the chain goes on at event {event.id}"
        return ChainProblem(expected_id, MISSING, detail)
    if event.prev_hash == previous_hash:
        if event.content_matches:
            return None
        return ChainProblem(event.id, ALTERED, "its hash does not match what it records")
    if following is not None and following.prev_hash == previous_hash:
        if event.prev_hash == following.hash:
            return ChainProblem(event.id, OUT_OF_ORDER, f"swapped with event {following.id}")
        return ChainProblem(
            event.id, INSERTED, f"event {following.id} is chained to the event before it"
        )
    if hash_before is not None and event.prev_hash == hash_before:
        return ChainProblem(
            previous_id, INSERTED, f"event {event.id} is chained to the event before it"
        )
    if not event.content_matches:
        return ChainProblem(event.id, ALTERED, "its hash does not match what it records")
    if previous_id == 0:
        return ChainProblem(event.id, ALTERED, "it does not link to the start of the chain")
    return ChainProblem(
        previous_id, ALTERED, f"re-hashed: event {event.id} was chained to a different hash"
    )


def _check_head(head, count: int, last_id: int, last_hash: str) -> ChainProblem | None:
    if head is None:
        if count == 0:
            return None
        return ChainProblem(last_id, ALTERED, "the chain head row is missing")
    if head.last_event_id > last_id:
        return ChainProblem(
            last_id + 1, MISSING, f"the chain head records event {head.last_event_id} as the last"
        )
    if head.last_event_id < last_id:
        return ChainProblem(
            head.last_event_id + 1,
            INSERTED,
            f"after event {head.last_event_id}, the last the chain head records",
        )
    if head.last_hash != last_hash:
        return ChainProblem(
            last_id, ALTERED, "its hash differs from the one the chain head records"
        )
    return None
