"""What a handler works with, and the small steps every handler shares."""

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import User
from portal.db import utcnow
from portal.errors import BlockingRule, Refused
from portal.registry.models import Nation
from portal.requests.models import AccessRequest, AmendmentPhase, RequestStatus
from portal.reviews.models import NationTrack, TrackStatus

AMENDMENT_PHASES = frozenset(phase.value for phase in AmendmentPhase)
# The phases in which the researcher edits: their edits after a submission wait in
# AccessRequest.pending_fields while it stays in one of them.
EDITING = frozenset({RequestStatus.DRAFT, RequestStatus.CHANGES_REQUESTED})


@dataclass
class Context:
    session: Session
    actor: User | None  # None: the system (a job), never a person's decision
    request: AccessRequest
    nation: Nation | None = None  # the Nation the command acts for, resolved
    extra: dict[str, Any] = field(default_factory=dict)  # what a guard found for the handler
    # Notices to send once the handler is done: (kind, context). perform() delivers them
    # through portal.workflow.notices, which asks available() who may act next.
    notices: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def tell(self, kind: str, **context: Any) -> None:
        self.notices.append((kind, context))

    def event(self, kind: EventType, nations=(), **details: Any) -> None:
        record_event(
            self.session,
            action=kind,
            actor=self.actor,
            request=self.request,
            nations=list(nations),
            details=details,
        )

    def set_status(self, status: RequestStatus) -> None:
        """Move the request on; while an amendment is open, the pipeline's steps move
        the amendment's phase instead (the request stays active). The amendment's ends
        are portal/workflow/amending.py's, which clears it before any other status."""
        if status not in EDITING:  # a submission applied them first (drafting.submit)
            self.request.pending_fields = None  # withdrawn, refused, ended: never submitted
        if self.request.amendment is not None:
            if status.value not in AMENDMENT_PHASES:
                raise AssertionError(f"{status} while an amendment is open: end it first")
            self.request.amendment = AmendmentPhase(status.value)
        else:
            self.request.status = status
        self.request.updated_at = utcnow()
        self.session.add(self.request)

    def move_track(
        self, track: NationTrack, status: TrackStatus, revision: int | None = None
    ) -> None:
        """Move a Nation's part; it is about ``revision``, by default the current one."""
        track.status = status
        track.revision = self.request.current_revision if revision is None else revision
        track.updated_at = utcnow()
        self.session.add(track)


def refuse(rule: str, message: str) -> Refused:
    return Refused(message, [BlockingRule(rule, message)])
