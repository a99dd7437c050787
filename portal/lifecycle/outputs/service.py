"""Outputs and each asking Nation's part in them: who asks for review, what counts
toward a Nation's quorum on an output, what the small-cell findings are. Shared by the
workflow (portal/workflow/outputs.py) and what people read (portal/transparency/outputs.py).
"""

from sqlmodel import Session, select

from portal.agreements.parties import approving_nations
from portal.db import TransactionCache, could_be_id
from portal.errors import NotFound
from portal.lifecycle import service as lifecycle
from portal.lifecycle.models import DueEvent, Obligation, ObligationState
from portal.lifecycle.outputs import content, smallcells
from portal.lifecycle.outputs.models import (
    OutputDecision,
    OutputReview,
    OutputStatus,
    OutputTrack,
    OutputTrackStatus,
    ResearchOutput,
)
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.reviews.service import ReviewTally, counting_steward_ids, standing_approval, tally_of

# The standard condition by which a Nation's decision asks to review outputs.
REVIEW_CONDITIONS = frozenset({"community_output_review"})
PROFILE, CONDITION = "profile", "condition"


def met_by_output_review(obligation: Obligation) -> bool:
    """Whether ``obligation`` is the Nation's review of outputs before publication. That
    is met output by output, not by a report: each output goes to the Nation's review
    (``asking_nations``) and is cleared for publication only once it approves. So nothing
    is reported on it; it stays open while the agreement binds (an output may come at
    any time), and the Nation may still waive it, or revoke. One the Nation gave a date
    of its own asks a report by then, like any dated condition."""
    return (
        obligation.source in REVIEW_CONDITIONS
        and obligation.due_event is DueEvent.BEFORE_PUBLICATION
    )


def review_waived(session: Session, request: AccessRequest, nation: Nation) -> bool:
    """Whether the Nation let its review of the request's outputs go: its latest review
    obligation is waived. Its last word on this request stands over its profile, which
    asks for every request; a later edition attaching the condition again asks again."""
    owed = [
        obligation
        for obligation in lifecycle.of_request(session, request)
        if obligation.nation_id == nation.id and met_by_output_review(obligation)
    ]
    return bool(owed) and owed[-1].state is ObligationState.WAIVED


def _asked_by_condition(session: Session, request: AccessRequest, nation: Nation) -> bool:
    decision = standing_approval(session, request, nation)
    codes = {c.get("code") for c in decision.conditions} if decision else set()
    return bool(codes & REVIEW_CONDITIONS)


def asking_nations(session: Session, request: AccessRequest) -> list[tuple[Nation, str]]:
    """The Nations that review the request's outputs before publication, and why: their
    profile asks it of every request, or their approval of this one attached it."""
    asking = []
    for nation in approving_nations(session, request):
        if review_waived(session, request, nation):
            continue
        if nation.output_review_required:
            asking.append((nation, PROFILE))
        elif _asked_by_condition(session, request, nation):
            asking.append((nation, CONDITION))
    return asking


def findings(media_type: str, data: bytes, threshold: int) -> dict:
    """What a Nation's reviewers read of a CSV's small cells (empty for other files)."""
    if media_type != content.CSV:
        return {}
    return smallcells.find(data.decode("utf-8-sig"), threshold).as_dict()


def outputs_of(session: Session, request: AccessRequest) -> list[ResearchOutput]:
    query = select(ResearchOutput).where(ResearchOutput.request_id == request.id)
    return list(session.exec(query.order_by(ResearchOutput.id)))


def get_output(session: Session, request: AccessRequest, output_id: int | None) -> ResearchOutput:
    """The request's output ``output_id`` (404 for another request's, or none)."""
    output = session.get(ResearchOutput, output_id) if could_be_id(output_id) else None
    if output is None or output.request_id != request.id:
        raise NotFound(f"{request.ref} has no output {output_id}")
    return output


def tracks_of(session: Session, output: ResearchOutput) -> list[tuple[OutputTrack, Nation]]:
    return list(
        session.exec(
            select(OutputTrack, Nation)
            .join(Nation, OutputTrack.nation_id == Nation.id)
            .where(OutputTrack.output_id == output.id)
            .order_by(Nation.name)
        )
    )


def track_for(session: Session, output: ResearchOutput, nation: Nation) -> OutputTrack | None:
    return session.exec(
        select(OutputTrack).where(
            OutputTrack.output_id == output.id, OutputTrack.nation_id == nation.id
        )
    ).first()


def reviews_of(session: Session, output: ResearchOutput, nation: Nation) -> list[OutputReview]:
    return list(
        session.exec(
            select(OutputReview)
            .where(OutputReview.output_id == output.id, OutputReview.nation_id == nation.id)
            .order_by(OutputReview.id)
        )
    )


def tally(
    session: Session, request: AccessRequest, output: ResearchOutput, nation: Nation
) -> ReviewTally:
    """The Nation's quorum rule on the output: its designated stewards' reviews, a
    declared conflict and the requesting side never counting (as for requests)."""
    eligible = counting_steward_ids(session, request, nation)
    return tally_of(reviews_of(session, output, nation), eligible, nation)


def decision_for(session: Session, output: ResearchOutput, nation: Nation) -> OutputDecision | None:
    return session.exec(
        select(OutputDecision).where(
            OutputDecision.output_id == output.id, OutputDecision.nation_id == nation.id
        )
    ).first()


# Per transaction: the home page's output queues ask each candidate request whether an
# output waits on it, and whether its reader reviewed it; each is read in one query.
_waiting = TransactionCache("portal.lifecycle.outputs.waiting", (ResearchOutput, OutputTrack))
_reviewed = TransactionCache("portal.lifecycle.outputs.reviewed", (OutputReview,))


def waiting_tracks(session: Session, request: AccessRequest) -> list[OutputTrack]:
    """The open Nation parts (review or decision) of the request's outputs in review."""
    if request.id not in _waiting(session):
        preload_waiting(session, [request.id])
    return list(_waiting(session)[request.id])


def preload_waiting(session: Session, request_ids: list[int]) -> None:
    """``waiting_tracks`` of every one of ``request_ids``, in one query."""
    found: dict[int, list[OutputTrack]] = {request_id: [] for request_id in request_ids}
    if found:
        query = (
            select(OutputTrack, ResearchOutput.request_id)
            .join(ResearchOutput, ResearchOutput.id == OutputTrack.output_id)
            .where(
                ResearchOutput.request_id.in_(request_ids),
                ResearchOutput.status == OutputStatus.IN_REVIEW,
                OutputTrack.status.in_([s.value for s in OutputTrackStatus if s.is_open]),
            )
            .order_by(OutputTrack.id)
        )
        for track, request_id in session.exec(query):
            found[request_id].append(track)
    _waiting(session).update(found)  # after the query: its autoflush may empty the cache


def reviewed_by(
    session: Session, steward_id: int, nation_id: int, output_ids: list[int]
) -> set[int]:
    """Which of ``output_ids`` the steward has reviewed for the Nation (read at once for
    a page by preload_reviewed_by)."""
    missing = [i for i in output_ids if (steward_id, i) not in _reviewed(session)]
    preload_reviewed_by(session, steward_id, missing)
    cached = _reviewed(session)
    return {i for i in output_ids if nation_id in cached[steward_id, i]}


def preload_reviewed_by(session: Session, steward_id: int, output_ids: list[int]) -> None:
    """For each of ``output_ids``, the Nations the steward reviewed it for, in one query."""
    if not output_ids:
        return
    found: dict[tuple[int, int], set[int]] = {(steward_id, i): set() for i in output_ids}
    query = select(OutputReview.output_id, OutputReview.nation_id).where(
        OutputReview.steward_id == steward_id, OutputReview.output_id.in_(output_ids)
    )
    for output_id, nation_id in session.exec(query):
        found[steward_id, output_id].add(nation_id)
    _reviewed(session).update(found)  # after the query: its autoflush may empty the cache
