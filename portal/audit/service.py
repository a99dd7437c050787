"""Recording audit events, and reading a request's events. Flush, never commit.

``record_event`` writes in the caller's transaction, so a change and its event are
committed together or not at all. Each append locks the chain head row until the
transaction ends (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers
already, every transaction beginning IMMEDIATE). Call it as the last write of a
unit of work: the head is then always the last lock a transaction takes, and two
transactions cannot wait on each other through it.
"""

import json
import re
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from portal.audit.chain import canonical_json, event_hash
from portal.audit.events import EventType
from portal.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent, AuditEventNation
from portal.auth.models import User
from portal.db import utcnow
from portal.registry.models import Nation
from portal.requests.models import AccessRequest

# Where the current web or API request comes from. The web layer sets it before each
# request (portal.web), so services record it without knowing about Flask.
client_address_var: ContextVar[str | None] = ContextVar("client_address", default=None)

ACTION_PATTERN = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
SYSTEM_ACTOR = "system"  # the label of events with no signed-in person (command line, jobs)
_INSERT_IGNORING_CONFLICTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def record_event(
    session: Session,
    *,
    action: EventType | str,
    actor: User | None,
    request: AccessRequest | None = None,
    nations: Iterable[Nation] = (),
    details: dict[str, Any] | None = None,
    client_address: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    action = str(action)
    if not ACTION_PATTERN.match(action):
        raise ValueError(f"{action!r} is not a dotted action name such as 'request.submitted'")
    # Store exactly what is hashed (and fail now on anything JSON cannot hold).
    details = json.loads(canonical_json(details or {}))
    nation_ids = sorted({nation.id for nation in nations})
    head = _locked_head(session)
    event = AuditEvent(
        id=head.last_event_id + 1,
        occurred_at=utcnow(),
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else SYSTEM_ACTOR,
        action=action,
        request_id=request.id if request else None,
        details=details,
        client_address=client_address or client_address_var.get(),
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = event_hash(
        event_id=event.id,
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        action=event.action,
        request_id=event.request_id,
        nation_ids=nation_ids,
        details=event.details,
        client_address=event.client_address,
        prev_hash=event.prev_hash,
    )
    session.add(event)
    session.flush()  # the event exists before the rows that refer to it
    session.add_all(AuditEventNation(event_id=event.id, nation_id=id_) for id_ in nation_ids)
    head.last_event_id, head.last_hash = event.id, event.hash
    session.add(head)
    session.flush()
    return event


def _locked_head(session: Session) -> AuditChainHead:
    """The chain head row, locked until the transaction ends; created on first use."""
    query = (
        select(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = session.exec(query).first()
    if head is None:
        # Two first writers may race here: one inserts, the other's insert waits for it
        # and then does nothing; both go on to lock the row.
        insert = _INSERT_IGNORING_CONFLICTS[session.connection().dialect.name]
        session.exec(
            insert(AuditChainHead)
            .values(id=1, last_event_id=0, last_hash=GENESIS_HASH)
            .on_conflict_do_nothing()
        )
        head = session.exec(query).one()
    return head


def events_for_request(
    session: Session,
    request: AccessRequest,
    after_id: int | None = None,
    limit: int = 50,
    listed: Any = True,
) -> list[AuditEvent]:
    """A request's events, oldest first: the next ``limit`` after event ``after_id``;
    ``listed``: a clause saying which the reader finds listed (transparency.privacy)."""
    query = select(AuditEvent).where(AuditEvent.request_id == request.id, listed)
    if after_id is not None:
        query = query.where(AuditEvent.id > after_id)
    return list(session.exec(query.order_by(AuditEvent.id).limit(limit)))
