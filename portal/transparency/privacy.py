"""Invariant 9: each Nation's deliberations are its own.

A Nation's stewards' names, recommendations, criteria, comments and conflict
declarations are read only by that Nation's own people (those the policy lets read its
record, ``view_record``), and never by anyone on the requesting side. The researcher
reads what a Nation sends: its requests for changes, its decision, reasons and
conditions. Everyone else who may see the request (coordinators, other Nations) reads
each Nation's status only. Every view of a request asks here: its page, the API, the
timeline, mail and exports.

A message in a conversation is read by the readers of its thread, whom the policy names
(portal/workflow/messaging.py); what someone wrote for a Nation to the researcher reads
as the Nation's to anyone but the Nation's own people.
"""

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.audit.events import Audience, EventType
from portal.audit.models import AuditEvent, AuditEventNation
from portal.auth.models import User
from portal.conversations.models import Channel
from portal.policy.access import request_nation_ids
from portal.policy.service import reads_deliberations
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.transparency import output_reach
from portal.workflow.messaging import readable_threads

Thread = tuple[Channel, int | None]  # a thread by its key: (channel, Nation id)

# What anyone who may see the request reads of a withheld event's details.
OPEN_DETAILS = ("revision",)
# The kinds that are a Nation's deliberation itself (a steward's review or conflict
# declared, an output's review): that one happened at all is the Nation's own. Listed to
# anyone else, an event beside a count of reviews that did not rise told a conflict.
DELIBERATIONS = (EventType.REVIEW_RECORDED.value, EventType.OUTPUT_REVIEWED.value)
# The events of one output, each naming it in its details' "output".
OUTPUT_EVENTS = tuple(kind.value for kind in EventType if kind.value.startswith("output."))


@dataclass(frozen=True)
class Sight:
    """What one person may read of one request's Nations' parts."""

    viewer_id: int
    insider_of: frozenset[int]  # the Nations whose deliberations they read
    researcher: bool  # they read what the Nations send to the researcher
    threads: frozenset[Thread] = frozenset()  # the conversations they read
    unread_outputs: frozenset[int] = frozenset()  # outputs they may not know of

    def reads(self, audience: Audience, nation_ids) -> bool:
        if audience is Audience.PUBLIC or self.insider_of.intersection(nation_ids):
            return True
        return audience is Audience.SENT and self.researcher

    def reads_deliberation(self, nation: Nation) -> bool:
        return nation.id in self.insider_of

    def reads_sent(self, nation: Nation) -> bool:
        return self.researcher or nation.id in self.insider_of

    def names_writer(self, as_nation: bool, nation_id: int | None, writer_id: int | None) -> bool:
        """Whether a message's writer reads by name: what someone wrote for a Nation to
        the researcher reads as the Nation's to anyone but its own people and the writer."""
        return not as_nation or writer_id == self.viewer_id or nation_id in self.insider_of


def sight(session: Session, viewer: User, request: AccessRequest) -> Sight:
    ids = request_nation_ids(session, request)
    nations = session.exec(select(Nation).where(Nation.id.in_(ids))) if ids else []
    insider = {n.id for n in nations if reads_deliberations(session, viewer, request, n)}
    threads = frozenset(t.key for t in readable_threads(session, viewer, request))
    unread = output_reach.unread(session, viewer, request)
    return Sight(viewer.id, frozenset(insider), request.filed_by(viewer.id), threads, unread)


def listed_to(seen: Sight) -> sa.ColumnElement[bool]:
    """Which of a request's events ``seen`` finds listed (a clause on AuditEvent): all
    but the deliberations of the Nations whose deliberations they do not read, and the
    messages of threads they do not read (that a Nation's people talk among themselves,
    and when, is the Nation's own)."""
    own = _for_nations(sorted(seen.insider_of))
    readable = [
        sa.and_(
            AuditEvent.details["channel"].as_string() == str(channel),
            _for_nations([nation_id]) if nation_id is not None else sa.true(),
        )
        for channel, nation_id in sorted(seen.threads, key=str)
    ]
    return sa.and_(
        sa.or_(AuditEvent.action.not_in(DELIBERATIONS), own),
        sa.or_(AuditEvent.action != EventType.MESSAGE_POSTED.value, *readable),
        _of_readable_outputs(seen),
    )


def _of_readable_outputs(seen: Sight) -> sa.ColumnElement[bool]:
    """Not an event of an output ``seen`` may not know of: its submission names its
    title, venue and digest (a Nation an amendment dropped, found in a probe)."""
    if not seen.unread_outputs:
        return sa.true()
    unread = AuditEvent.details["output"].as_integer().in_(sorted(seen.unread_outputs))
    return sa.not_(sa.and_(AuditEvent.action.in_(OUTPUT_EVENTS), unread))


def _for_nations(nation_ids: list[int]) -> sa.ColumnElement[bool]:
    """The event was recorded for one of ``nation_ids``."""
    return (
        select(AuditEventNation.event_id)
        .where(
            AuditEventNation.event_id == AuditEvent.id,
            AuditEventNation.nation_id.in_(nation_ids),
        )
        .exists()
    )


def record_sight(reader: User | None, nation: Nation, request: AccessRequest | None) -> Sight:
    """How a reader of ``nation``'s record reads what concerns one request: as the
    Nation's own; but as the requesting side reads it when the reader is on that side
    (no one reads the deliberations on their own request)."""
    reader_id = reader.id if reader else 0
    with_the_researcher = (Channel.NATION, nation.id)
    if reader is not None and request is not None and request.involves(reader.id, reader.email):
        return Sight(reader_id, frozenset(), True, frozenset({with_the_researcher}))
    own = frozenset({with_the_researcher, (Channel.INTERNAL, nation.id)})
    return Sight(reader_id, frozenset({nation.id}), False, own)


@dataclass(frozen=True)
class ShownEvent:
    """An event as one person may read it."""

    event: AuditEvent
    actor: str  # who did it, or the Nations it was done for
    details: dict[str, Any]
    withheld: bool  # part of it is a Nation's own


def show_event(
    event: AuditEvent,
    nation_ids,
    nation_names: list[str],
    seen: Sight,
    names: dict[int, str] | None = None,
) -> ShownEvent:
    """The event as ``seen`` may read it; ``names`` gives people's names by account id
    (pages name people; the chain keeps the e-mail address they acted under)."""
    label = (names or {}).get(event.actor_id, event.actor_label)
    if event.action == EventType.MESSAGE_POSTED:
        return _show_message(event, nation_ids, nation_names, seen, label)
    try:
        kind = EventType(event.action)
        audience, names_actor = kind.audience, kind.names_actor
    except ValueError:  # a kind this version does not know: keep it to the Nations
        audience, names_actor = Audience.INTERNAL, False
    # A step taken for several Nations at once (a download) names its actor only to
    # those who belong to every one of them: the actor acted for one, unknown which.
    insider = bool(nation_ids) and seen.insider_of.issuperset(nation_ids)
    for_nations = ", ".join(nation_names) or _("a Nation")
    if not seen.reads(audience, nation_ids):
        details = {k: event.details[k] for k in OPEN_DETAILS if k in (event.details or {})}
        return ShownEvent(event, for_nations, details, True)
    own = event.actor_id is not None and event.actor_id == seen.viewer_id
    named = names_actor or insider or own
    return ShownEvent(event, label if named else for_nations, event.details, False)


def _show_message(
    event: AuditEvent, nation_ids, nation_names: list[str], seen: Sight, label: str
) -> ShownEvent:
    """A message reads as its thread's readers read it; to others, as its kind and time."""
    details = event.details or {}
    nation_id = next(iter(nation_ids), None)
    if (details.get("channel"), nation_id) not in seen.threads:
        return ShownEvent(event, ", ".join(nation_names) or _("a participant"), {}, True)
    if not seen.names_writer(bool(details.get("as_nation")), nation_id, event.actor_id):
        return ShownEvent(event, ", ".join(nation_names), details, False)
    return ShownEvent(event, label, details, False)
