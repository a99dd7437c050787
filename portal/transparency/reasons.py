"""Why a request is where it is, shown where the person acts (its page, its edit page):
what the researcher was asked to change on the current revision (by screening or by a
Nation), and why it was refused, revoked or withdrawn. Each reason is read from the
audit record as far as the reader may read it (invariant 9: a coordinator or another
Nation reads that a Nation refused, never its reasons)."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from portal.audit.events import EventType
from portal.audit.models import AuditEvent
from portal.requests.models import AccessRequest
from portal.transparency.privacy import Sight
from portal.transparency.timeline import entries_for
from portal.workflow.drafting import RETURN_REASONS

E = EventType
HEADINGS = {
    E.REQUEST_RETURNED: _l("Returned to the researcher at screening"),
    E.REQUEST_CHANGES_REQUESTED: _l("Changes asked"),
    E.DECISION_REFUSED: _l("Refused"),
    E.REQUEST_REVOKED: _l("Access revoked"),
    E.REQUEST_WITHDRAWN: _l("Withdrawn"),
}
# The detail that carries what was said, for each kind.
SAID_IN = {E.REQUEST_RETURNED: "comment", E.REQUEST_CHANGES_REQUESTED: "comment"}


@dataclass(frozen=True)
class Reason:
    heading: str  # what happened, e.g. "Refused"
    by: str  # who said it: "a coordinator", a Nation's name, "the researcher"
    text: str  # what they said; empty where the reader may not read it
    occurred_at: datetime


def _since_last_submission(session: Session, request: AccessRequest):
    """The events that concern the current revision: those after its submission."""
    last = session.exec(
        select(sa.func.max(AuditEvent.id)).where(
            AuditEvent.request_id == request.id, AuditEvent.action == E.REQUEST_SUBMITTED
        )
    ).one()
    return session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.request_id == request.id,
            AuditEvent.id > (last or 0),
            AuditEvent.action.in_([kind.value for kind in HEADINGS]),
        )
        .order_by(AuditEvent.id)
    ).all()


def _by(kind: EventType, nations: list[str]) -> str:
    if kind == E.REQUEST_RETURNED:
        return _("a coordinator")
    if kind == E.REQUEST_WITHDRAWN:
        return _("the researcher")
    return ", ".join(nations)


def reasons(session: Session, request: AccessRequest, seen: Sight) -> list[Reason]:
    """What was said about the current revision's fate, oldest first."""
    found = []
    for entry in entries_for(session, _since_last_submission(session, request), seen):
        kind = EventType(entry.event.action)
        details = {} if entry.withheld else entry.event.details or {}
        heading = str(HEADINGS[kind])
        if kind == E.REQUEST_RETURNED and details.get("reason") in RETURN_REASONS:
            why = str(RETURN_REASONS[details["reason"]]).lower()
            heading = _("%(heading)s: %(reason)s", heading=heading, reason=why)
        text = str(details.get(SAID_IN.get(kind, "reason")) or "")
        found.append(Reason(heading, _by(kind, entry.nations), text, entry.event.occurred_at))
    return found
