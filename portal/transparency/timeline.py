"""Pages of audit events for people to read: a request's timeline, oldest first, as the
person reading may see it (invariant 9: portal.transparency.privacy).

Pages are keyset-paginated on the event id (the chain position): a page starts
after the last event of the one before, so reading page 1,000 of a long timeline
costs what page 1 does (the index on (request_id, id) serves both).
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from portal.agreements.render import standard_words
from portal.audit.models import AuditEvent, AuditEventNation
from portal.audit.service import events_for_request
from portal.auth.models import User
from portal.i18n import current_language
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.reviews.terms import catalogue_in_force
from portal.transparency.privacy import ShownEvent, Sight, listed_to, show_event
from portal.transparency.words import detail_lines, event_words

PAGE_SIZE = 100


@dataclass(frozen=True)
class Entry:
    """One event as a page shows it."""

    event: AuditEvent
    actor: str
    words: str
    details: list[str]
    nations: list[str]  # the names of the Nations it concerns
    ref: str | None  # the request it is about, if any
    withheld: bool = False  # part of it is a Nation's own, not the reader's


@dataclass(frozen=True)
class EventPage:
    entries: list[Entry]
    next_cursor: int | None  # where the next page goes on from; None on the last page


def _nations_of(session: Session, events: Sequence[AuditEvent]) -> dict[int, list[Nation]]:
    ids = [event.id for event in events]
    found: dict[int, list[Nation]] = defaultdict(list)
    if ids:
        rows = session.exec(
            select(AuditEventNation.event_id, Nation)
            .join(Nation, Nation.id == AuditEventNation.nation_id)
            .where(AuditEventNation.event_id.in_(ids))
            .order_by(AuditEventNation.event_id, Nation.name)
        )
        for event_id, nation in rows:
            found[event_id].append(nation)
    return found


def shown_events(
    session: Session,
    events: Sequence[AuditEvent],
    seen: Sight | Callable[[AuditEvent], Sight],
    *,
    by_name: bool = True,
) -> list[ShownEvent]:
    """The events as the reader may see them: ``seen`` says what they read of all of
    them, or (a function) of each (a Nation's record reads each request apart).
    ``by_name``: people by their names (pages), else by the e-mail they acted under."""
    nations = _nations_of(session, events)
    names = _names_of(session, events) if by_name else {}
    sight_of = seen if callable(seen) else (lambda _event: seen)
    return [
        show_event(
            e, [n.id for n in nations[e.id]], [n.name for n in nations[e.id]], sight_of(e), names
        )
        for e in events
    ]


def _names_of(session: Session, events: Sequence[AuditEvent]) -> dict[int, str]:
    """The names of the people who acted, by account id."""
    ids = {event.actor_id for event in events if event.actor_id is not None}
    if not ids:
        return {}
    return dict(session.exec(select(User.id, User.name).where(User.id.in_(ids))).all())


def _conditions_said(
    session: Session, nations: dict[int, list[Nation]], locations: dict[int, str]
) -> Callable[[ShownEvent], list[str] | None]:
    """A decision event's conditions in the language spoken, as the request page says
    them (standard ones translated while their words are the catalogue's in force; a
    Nation's own words as decided). None for an event that names no conditions."""
    language, catalogue = current_language(), None

    def said(shown: ShownEvent) -> list[str] | None:
        nonlocal catalogue
        conditions = (shown.details or {}).get("conditions")
        event = shown.event
        if not conditions or len(nations[event.id]) != 1 or event.request_id not in locations:
            return None
        catalogue = catalogue_in_force(session) if catalogue is None else catalogue
        nation, location = nations[event.id][0], locations[event.request_id]
        return [standard_words(c, nation, location, catalogue, language) for c in conditions]

    return said


def entries_for(
    session: Session, events: Sequence[AuditEvent], seen: Sight | Callable[[AuditEvent], Sight]
) -> list[Entry]:
    """Events in words, with their Nations and request references."""
    nations = _nations_of(session, events)
    request_ids = {event.request_id for event in events if event.request_id is not None}
    found = (
        session.exec(
            select(AccessRequest.id, AccessRequest.ref, AccessRequest.storage_location).where(
                AccessRequest.id.in_(request_ids)
            )
        ).all()
        if request_ids
        else []
    )
    refs = {id_: ref for id_, ref, _ in found}
    locations = {id_: location for id_, _, location in found}
    said = _conditions_said(session, nations, locations)
    entries = []
    for shown in shown_events(session, events, seen):
        e = shown.event
        entries.append(
            Entry(
                e,
                shown.actor,
                event_words(e),
                detail_lines(e.action, shown.details, said(shown)),
                [n.name for n in nations[e.id]],
                refs.get(e.request_id),
                shown.withheld,
            )
        )
    return entries


def page_of(
    session: Session,
    events: Sequence[AuditEvent],
    size: int,
    seen: Sight | Callable[[AuditEvent], Sight],
) -> EventPage:
    """A page from ``size + 1`` events read: the extra one only says another page follows."""
    shown = list(events[:size])
    more = len(events) > size
    return EventPage(entries_for(session, shown, seen), shown[-1].id if more else None)


def request_timeline(
    session: Session,
    request: AccessRequest,
    seen: Sight,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> EventPage:
    """The request's events after event ``after``, oldest first, as ``seen`` may read
    them. Who may see the request at all is the caller's check (policy.access)."""
    events = events_for_request(
        session, request, after_id=after, limit=size + 1, listed=listed_to(seen)
    )
    return page_of(session, events, size, seen)
