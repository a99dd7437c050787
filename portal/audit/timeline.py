"""Pages of audit events for people to read: a request's timeline, oldest first.

Pages are keyset-paginated on the event id (the chain position): a page starts
after the last event of the one before, so reading page 1,000 of a long timeline
costs what page 1 does (the index on (request_id, id) serves both).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from portal.audit.models import AuditEvent, AuditEventNation
from portal.audit.service import events_for_request
from portal.audit.words import detail_lines, event_words
from portal.registry.models import Nation
from portal.requests.models import AccessRequest

PAGE_SIZE = 100


@dataclass(frozen=True)
class Entry:
    """One event as a page shows it."""

    event: AuditEvent
    words: str
    details: list[str]
    nations: list[str]  # the names of the Nations it concerns
    ref: str | None  # the request it is about, if any


@dataclass(frozen=True)
class EventPage:
    entries: list[Entry]
    next_cursor: int | None  # where the next page goes on from; None on the last page


def entries_for(session: Session, events: Sequence[AuditEvent]) -> list[Entry]:
    """Events in words, with their Nations and request references (two queries in all)."""
    ids = [event.id for event in events]
    nations: dict[int, list[str]] = defaultdict(list)
    if ids:
        rows = session.exec(
            select(AuditEventNation.event_id, Nation.name)
            .join(Nation, Nation.id == AuditEventNation.nation_id)
            .where(AuditEventNation.event_id.in_(ids))
            .order_by(AuditEventNation.event_id, Nation.name)
        )
        for event_id, name in rows:
            nations[event_id].append(name)
    request_ids = {event.request_id for event in events if event.request_id is not None}
    refs = (
        dict(
            session.exec(
                select(AccessRequest.id, AccessRequest.ref).where(AccessRequest.id.in_(request_ids))
            ).all()
        )
        if request_ids
        else {}
    )
    return [
        Entry(e, event_words(e), detail_lines(e), nations[e.id], refs.get(e.request_id))
        for e in events
    ]


def page_of(session: Session, events: Sequence[AuditEvent], size: int) -> EventPage:
    """A page from ``size + 1`` events read: the extra one only says another page follows."""
    shown = list(events[:size])
    more = len(events) > size
    return EventPage(entries_for(session, shown), shown[-1].id if more else None)


def request_timeline(
    session: Session, request: AccessRequest, after: int | None = None, size: int = PAGE_SIZE
) -> EventPage:
    """The request's events after event ``after``, oldest first. Who may see the request
    is the caller's check (portal.requests.service.get_visible)."""
    events = events_for_request(session, request, after_id=after, limit=size + 1)
    return page_of(session, events, size)
