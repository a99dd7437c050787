"""What a request page shows: the request, each Nation's track, what changed, what
happens next (in words) and what the person looking may do now."""

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from portal.agreements import view as agreement_view
from portal.agreements.view import AgreementView
from portal.audit.models import AuditEvent
from portal.audit.service import events_for_request
from portal.audit.words import event_words
from portal.auth.models import User
from portal.policy.service import authorize
from portal.registry.models import Dataset, Nation
from portal.requests import service
from portal.requests.models import AccessRequest, RequestStatus
from portal.requests.workflow import ALLOWED_FROM
from portal.reviews.models import Decision, NationTrack, Review, TrackStatus
from portal.reviews.service import ReviewTally, current_reviews, has_reviewed, tally, tracks_of

S = RequestStatus
# The request page shows the first page of its timeline; the timeline page the rest.
TIMELINE_PAGE = 100


@dataclass
class TrackView:
    nation: Nation
    track: NationTrack
    tally: ReviewTally
    reviews: list[tuple[Review, User]]
    decision: Decision | None
    can_review: bool = False


@dataclass
class RequestView:
    researcher: User
    datasets: list[tuple[Dataset, list[Nation]]]
    nations: list[Nation]
    tracks: list[TrackView]
    next_steps: list[str]
    changes: list[tuple]
    timeline: list[tuple[AuditEvent, str]] = field(default_factory=list)  # (event, in words)
    timeline_continues: bool = False  # more events than the first page shows
    actions: set[str] = field(default_factory=set)  # request-wide actions this person may take
    # Nations this person may decide for now (refusal is open from submission on).
    decidable: list[Nation] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    agreement: AgreementView | None = None


def _may(session: Session, user: User, action: str, req: AccessRequest, nation=None) -> bool:
    """Whether ``user`` holds a role for ``action`` and the state allows it (conditions
    may still block it: the form then explains why)."""
    decision = authorize(session, user, action, nation=nation, request=req)
    return req.status in ALLOWED_FROM[action] and decision.forbidden_by is None


def latest_decision(session: Session, req: AccessRequest, nation: Nation) -> Decision | None:
    return session.exec(
        select(Decision)
        .where(Decision.request_id == req.id, Decision.nation_id == nation.id)
        .order_by(Decision.id.desc())
    ).first()


def overview(
    session: Session, user: User, req: AccessRequest, *, with_timeline: bool = True
) -> RequestView:
    """Everything the request page shows; ``with_timeline=False`` skips reading the events
    (the API serves them on their own, page by page)."""
    datasets = service.datasets_of(session, req)
    nations = service.nations_of(session, req)
    dataset_nations = _dataset_nations(session, datasets)
    tracks = []
    for track, nation in tracks_of(session, req):
        reviews = [
            (r, session.get(User, r.steward_id)) for r in current_reviews(session, req, nation)
        ]
        view = TrackView(
            nation,
            track,
            tally(session, req, nation),
            reviews,
            latest_decision(session, req, nation),
        )
        open_track = track.status.is_open
        view.can_review = (
            open_track
            and _may(session, user, "review", req, nation)
            and not has_reviewed(session, req, nation, user)
        )
        tracks.append(view)
    events = events_for_request(session, req, limit=TIMELINE_PAGE + 1)
    view = RequestView(
        researcher=session.get(User, req.researcher_id),
        datasets=[(d, dataset_nations.get(d.id, [])) for d in datasets],
        nations=nations,
        tracks=tracks,
        next_steps=next_steps(req, tracks),
        changes=service.changes_since_previous(session, req),
        fields=service.snapshot(session, req),
        timeline=[(e, event_words(e)) for e in events[:TIMELINE_PAGE]],
        timeline_continues=len(events) > TIMELINE_PAGE,
    )
    view.agreement = agreement_view.view(session, req, user)
    if req.researcher_id == user.id:
        view.actions |= {a for a in ("submit", "withdraw") if req.status in ALLOWED_FROM[a]}
        if req.status in service.EDITABLE:
            view.actions.add("edit")
    if _may(session, user, "screen", req):
        view.actions.add("screen")
    closed = {t.nation.id for t in tracks if not t.track.status.is_open}
    view.decidable = [
        nation
        for nation in nations
        if nation.id not in closed and _may(session, user, "refuse", req, nation)
    ]
    return view


def _dataset_nations(session: Session, datasets: list[Dataset]) -> dict[int, list[Nation]]:
    from portal.registry.models import DatasetNation

    rows = session.exec(
        select(DatasetNation.dataset_id, Nation)
        .join(Nation, Nation.id == DatasetNation.nation_id)
        .where(DatasetNation.dataset_id.in_([d.id for d in datasets]))
        .order_by(Nation.name)
    ).all()
    result: dict[int, list[Nation]] = {}
    for dataset_id, nation in rows:
        result.setdefault(dataset_id, []).append(nation)
    return result


def next_steps(req: AccessRequest, tracks: list[TrackView]) -> list[str]:
    """What the request waits for, in words a person reads at a glance."""
    fixed = {
        S.DRAFT: "The researcher completes the draft and submits it.",
        S.SCREENING: "Waiting for a coordinator to screen the request.",
        S.CHANGES_REQUESTED: "Waiting for the researcher to revise and resubmit the request.",
        S.AWAITING_SIGNATURES: "Every Nation approved: waiting for the agreement to be signed.",
        S.ACTIVE: "Access is active under the signed agreement.",
        S.REFUSED: "Refused. The researcher may file a new request without the refusing "
        "Nation's data.",
        S.WITHDRAWN: "Withdrawn by the researcher.",
        S.REVOKED: "Revoked: access ended at once.",
        S.EXPIRED: "Expired at the end of its term.",
        S.CLOSED: "Closed; the data was returned or destroyed.",
    }
    if req.status != S.UNDER_REVIEW:
        return [fixed[req.status]]
    steps = []
    for view in tracks:
        name = view.nation.name
        if view.track.status == TrackStatus.REVIEW:
            missing = view.tally.reviews_missing
            if missing:
                plural = "review" if missing == 1 else "reviews"
                steps.append(f"Waiting for {missing} more {name} steward {plural}.")
            else:
                steps.append(f"Waiting for {name}'s representative to decide.")
        elif view.track.status == TrackStatus.DECISION:
            steps.append(f"Waiting for {name}'s representative to decide.")
        elif view.track.status == TrackStatus.APPROVED:
            steps.append(f"{name} approved.")
    return steps
