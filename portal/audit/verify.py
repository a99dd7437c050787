"""Re-walk the audit chain and name the first event that is not as it was written.

It reads one snapshot: a REPEATABLE READ transaction on PostgreSQL, a deferred
(non-locking) read transaction on SQLite, so writers go on while it runs and events
appended meanwhile are not mistaken for insertions. Memory stays constant however
long the record (see ``stream``).
"""

from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from portal.audit.models import GENESIS_HASH, AuditChainHead
from portal.audit.stream import Link, chain_links, chain_rows
from portal.db import READ_SNAPSHOT

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
    rechecked: int = 0  # events whose stored text was not canonical (see ``stream``)

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify_chain(engine: Engine) -> ChainReport:
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        connection.execution_options(**{READ_SNAPSHOT: True})
        with connection.begin():
            head = connection.execute(sa.select(AuditChainHead.__table__)).first()
            rechecked: list[int] = []
            with (
                chain_rows(engine, connection) as (events, nations),
                closing(chain_links(events, nations, rechecked)) as links,
            ):
                report = walk(links, head)
            return replace(report, rechecked=len(rechecked))


def walk(chain: Iterator[Link], head) -> ChainReport:
    """Check ids run 1, 2, 3, ..., each event links to the one before, each hashes
    right, and the head records the last. Looks one event ahead to tell a swap."""
    count, previous_id, previous_hash, hash_before = 0, 0, GENESIS_HASH, None
    event = next(chain, None)
    while event is not None:
        following = next(chain, None)
        event_id, prev_hash, event_hash, content_matches = event
        # The common case, inline: the next id, linked to the event before, hashing right.
        if not (event_id == previous_id + 1 and prev_hash == previous_hash and content_matches):
            problem = _diagnose(event, following, previous_id, previous_hash, hash_before)
            return ChainReport(count, problem)
        count += 1
        previous_id, hash_before, previous_hash = event_id, previous_hash, event_hash
        event = following
    return ChainReport(count, _check_head(head, count, previous_id, previous_hash))


def _diagnose(
    event: Link,
    following: Link | None,
    previous_id: int,
    previous_hash: str,
    hash_before: str | None,
) -> ChainProblem:
    event_id, prev_hash, _hash, content_matches = event
    expected_id = previous_id + 1
    if event_id != expected_id:
        if previous_id == 0:
            return ChainProblem(expected_id, MISSING, f"the chain starts at event {event_id}")
        detail = f"after event {previous_id} the chain goes on at event {event_id}"
        return ChainProblem(expected_id, MISSING, detail)
    if prev_hash == previous_hash:
        return ChainProblem(event_id, ALTERED, "its hash does not match what it records")
    if following is not None and following[1] == previous_hash:
        if prev_hash == following[2]:
            return ChainProblem(event_id, OUT_OF_ORDER, f"swapped with event {following[0]}")
        return ChainProblem(
            event_id, INSERTED, f"event {following[0]} is chained to the event before it"
        )
    if hash_before is not None and prev_hash == hash_before:
        return ChainProblem(
            previous_id, INSERTED, f"event {event_id} is chained to the event before it"
        )
    if not content_matches:
        return ChainProblem(event_id, ALTERED, "its hash does not match what it records")
    if previous_id == 0:
        return ChainProblem(event_id, ALTERED, "it does not link to the start of the chain")
    return ChainProblem(
        previous_id, ALTERED, f"re-hashed: event {event_id} was chained to a different hash"
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
