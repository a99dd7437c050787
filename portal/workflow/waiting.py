"""Since when a request has waited for a person's step: what the home page's queues
(portal/workflow/queues.py) sort by, and whether a step offered waits for them yet
(deciding waits for the stewards' quorum; a report, for its due date to come near)."""

from datetime import UTC, datetime, time

from sqlmodel import Session

from portal.auth.models import User
from portal.db import utcnow
from portal.lifecycle import attestations
from portal.lifecycle import service as lifecycle
from portal.lifecycle.models import Obligation, ObligationState
from portal.lifecycle.outputs import service as outputs
from portal.lifecycle.outputs.models import OutputTrackStatus
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.reviews.models import TrackStatus
from portal.reviews.service import track_for
from portal.workflow.offers import Option

# The output tracks' states in which each output step waits for its person.
OUTPUT_STEPS = {
    "review_output": frozenset({OutputTrackStatus.REVIEW, OutputTrackStatus.DECISION}),
    "decide_output": frozenset({OutputTrackStatus.DECISION}),  # the stewards' quorum met
}


def waits_since(
    session: Session, user: User, key: str, request: AccessRequest, option: Option
) -> datetime | None:
    """Since when the request has waited for this person's step, or None if it does not
    wait for it yet (deciding waits once the Nation's stewards reached the quorum).
    A Nation's step waits since its track entered its state; the others since the
    request entered its own; an obligation's since it was made, reported or assessed;
    an output's since its Nation's part entered its state."""
    if key in OUTPUT_STEPS:
        return _output_waits_since(session, user, key, request, option.nation)
    if option.obligation is not None:
        obligation = session.get(Obligation, option.obligation)
        if key == "assess" and obligation.state != ObligationState.REPORTED:
            return None
        if key == "report":
            return _report_waits_since(obligation, attestations.ended_day(session, request))
        return obligation.updated_at
    if option.nation is None:
        return request.updated_at
    track = track_for(session, request, option.nation)
    if track is None or (key == "decide" and track.status != TrackStatus.DECISION):
        return None
    return track.updated_at if key in {"review", "decide"} else request.updated_at


def _report_waits_since(obligation: Obligation, access_ended) -> datetime | None:
    """Since when a report is the researcher's step: one found not met at once; one due
    on a date from the day its report is taken (lifecycle.report_opens: REPORT_AHEAD
    before it, found in a browser: every obligation waited from the first day); one due
    on an event (before publication) never here, the step that brings it on says so."""
    if obligation.state == ObligationState.NOT_MET:
        return obligation.updated_at
    opens = lifecycle.report_opens(obligation, access_ended)
    if opens is None:
        return None
    ahead = datetime.combine(opens, time(), UTC)
    return max(obligation.updated_at, ahead) if ahead <= utcnow() else None


def _output_waits_since(
    session: Session, user: User, key: str, request: AccessRequest, nation: Nation
) -> datetime | None:
    """The oldest of the Nation's open parts in an output that waits for ``user``: one
    they have not reviewed yet, or, to decide, one whose stewards reached the quorum."""
    tracks = [
        track
        for track in outputs.waiting_tracks(session, request)
        if track.nation_id == nation.id and track.status in OUTPUT_STEPS[key]
    ]
    if key == "review_output":
        done = outputs.reviewed_by(session, user.id, nation.id, [t.output_id for t in tracks])
        tracks = [track for track in tracks if track.output_id not in done]
    return min((track.updated_at for track in tracks), default=None)
