"""What each person reads of a request's outputs before publication (invariant 9).

Everyone who may see the request reads that an output exists, where it will be
published and where each asking Nation's part stands; but a Nation an amendment dropped
reads only the outputs it was party to (invariant 11). The small-cell findings are facts
about the file, read by all of them too (the researcher fixes a table from them). A
Nation's reviews of an output (who, what they recommend, why, conflicts) and its quorum
are its own people's; its decision's reason is sent to the researcher as well. The file
itself is read by the requesting side and the people of the request's Nations: a
coordinator reads that it exists, not the file (404).
"""

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session

from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import User
from portal.errors import NotFound
from portal.lifecycle.outputs import content, store
from portal.lifecycle.outputs import service as outputs
from portal.lifecycle.outputs.models import OutputStatus, OutputTrack, ResearchOutput
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.requests.service import nations_of
from portal.reviews.service import ReviewTally
from portal.transparency import output_reach as reach
from portal.transparency.privacy import Sight, sight


@dataclass(frozen=True)
class ReviewSeen:
    steward: str
    recommendation: str | None
    conflict_of_interest: bool
    comment: str


@dataclass(frozen=True)
class NationPart:
    """One asking Nation's part, as the reader may read it."""

    nation: Nation
    track: OutputTrack
    findings: dict[str, Any]
    reason: str | None = None  # its decision's reason, to those it was sent to
    tally: ReviewTally | None = None  # its own people only
    reviews: list[ReviewSeen] = field(default_factory=list)  # its own people only
    settled: OutputStatus | None = None  # the output's, once it no longer waits for anyone

    @property
    def label(self) -> str:
        """The Nation's part in words; one still open when another Nation's refusal
        settled the output waits for nothing (found in a browser: it read "Waiting for its
        representative's decision" on a refused output)."""
        if self.track.status.is_open and self.settled is OutputStatus.REFUSED:
            return _("No longer asked: another Nation refused its publication.")
        return self.track.status.label


@dataclass(frozen=True)
class OutputSeen:
    output: ResearchOutput
    parts: list[NationPart]
    may_download: bool

    @property
    def size_words(self) -> str:
        return content.size_words(self.output.size)


def _part(session: Session, seen: Sight, req, output, track, nation) -> NationPart:
    decision = outputs.decision_for(session, output, nation)
    reason = decision.reason if decision and seen.reads_sent(nation) else None
    settled = None if output.status == OutputStatus.IN_REVIEW else output.status
    if not seen.reads_deliberation(nation):
        return NationPart(nation, track, track.findings, reason, settled=settled)
    reviews = [
        ReviewSeen(
            session.get(User, r.steward_id).name,
            r.recommendation.value if r.recommendation else None,
            r.conflict_of_interest,
            r.comment,
        )
        for r in outputs.reviews_of(session, output, nation)
    ]
    tally = outputs.tally(session, req, output, nation)
    return NationPart(nation, track, track.findings, reason, tally, reviews, settled)


def _may_download(seen: Sight, viewer: User, req: AccessRequest, concerns: set[int]) -> bool:
    """The file: the requesting side, and the people of a Nation the output concerns."""
    return req.involves(viewer.id, viewer.email) or bool(seen.insider_of & concerns)


def _seen(
    session: Session, seen: Sight, viewer: User, req, output, concerns: set[int]
) -> OutputSeen:
    parts = [
        _part(session, seen, req, output, track, nation)
        for track, nation in outputs.tracks_of(session, output)
    ]
    return OutputSeen(output, parts, _may_download(seen, viewer, req, concerns))


def outputs_seen(session: Session, viewer: User, req: AccessRequest) -> list[OutputSeen]:
    """The request's outputs ``viewer`` (who may see the request) may read, as they read
    them."""
    found = outputs.outputs_of(session, req)
    if not found:
        return []
    seen = sight(session, viewer, req)
    concerning = [(output, reach.concerned_nations(session, req, output)) for output in found]
    return [
        _seen(session, seen, viewer, req, output, concerns)
        for output, concerns in concerning
        if reach.may_read(session, viewer, req, concerns)
    ]


def output_seen(session: Session, viewer: User, req: AccessRequest, output_id: int) -> OutputSeen:
    """One output as ``viewer`` reads it (404 for one they may not read)."""
    output = outputs.get_output(session, req, output_id)
    concerns = reach.concerned_nations(session, req, output)
    if not reach.may_read(session, viewer, req, concerns):
        raise _not_yours(req, output_id)
    return _seen(session, sight(session, viewer, req), viewer, req, output, concerns)


def _not_yours(req: AccessRequest, output_id: int) -> NotFound:
    return NotFound(
        _("%(ref)s has no output %(output)s you may read", ref=req.ref, output=output_id)
    )


def download(
    session: Session, viewer: User, req: AccessRequest, output_id: int
) -> tuple[str, str, bytes]:
    """(filename, media type, bytes) for one who may read the file (404 otherwise).
    Each download is an event in the record of each Nation whose data the request uses."""
    output = outputs.get_output(session, req, output_id)
    concerns = reach.concerned_nations(session, req, output)
    if not _may_download(sight(session, viewer, req), viewer, req, concerns):
        raise _not_yours(req, output_id)
    data = store.get(session, output.sha256)
    record_event(
        session,
        action=EventType.OUTPUT_DOWNLOADED,
        actor=viewer,
        request=req,
        nations=nations_of(session, req),
        details={"output": output.id, "sha256": output.sha256},
    )
    return output.filename, output.media_type, data
