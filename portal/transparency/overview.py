"""What a request page (and the API's request) shows one person: the request, each
Nation's part as far as they may read it (invariant 9: portal.transparency.privacy),
what happens next, and what they may do now (portal.workflow.available)."""

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from portal.agreements import view as agreement_view
from portal.agreements.editions import current as current_agreement
from portal.agreements.render import standard_words
from portal.agreements.view import AgreementView
from portal.audit.events import EventType
from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.i18n import current_language
from portal.lifecycle import attestations
from portal.policy.access import may_read_agreement
from portal.policy.versions import number_in_force
from portal.registry.models import Dataset, DatasetNation, Nation
from portal.requests import service
from portal.requests.models import AccessRequest, RequestStatus
from portal.reviews.models import Decision, NationTrack, Recommendation, Review, TrackStatus
from portal.reviews.service import ReviewTally, current_reviews, tally, tracks_of
from portal.reviews.terms import catalogue_of
from portal.transparency.nextsteps import next_steps
from portal.transparency.obligations import ShownObligation, shown_obligations
from portal.transparency.outputs import NationPart, OutputSeen, outputs_seen
from portal.transparency.privacy import ShownEvent, Sight, listed_to, sight
from portal.transparency.reasons import Reason, reasons
from portal.transparency.timeline import shown_events
from portal.workflow import Option, available
from portal.workflow.tracks import of_earlier_revision
from portal.workflow.unmet import unmet

# The phases in which no Nation has decided yet on what the request says now.
DECISION_AHEAD = frozenset(
    {
        RequestStatus.DRAFT,
        RequestStatus.SCREENING,
        RequestStatus.CHANGES_REQUESTED,
        RequestStatus.UNDER_REVIEW,
    }
)

# The request page shows its latest events, newest first; the timeline page all of them.
LATEST_EVENTS = 10


@dataclass
class TrackView:
    nation: Nation
    track: NationTrack
    tally: ReviewTally
    insider: bool  # the viewer reads this Nation's deliberations
    reviews: list[tuple[Review, User]]  # empty unless insider
    decision: Decision | None  # None unless the viewer reads what the Nation sends
    changes_asked: list[Review]  # the Nation's requests for changes, likewise
    conditions: list[str] = field(default_factory=list)  # the decision's, in the reader's words
    # Its status is of an earlier revision: the Nation is not asked about this one yet.
    earlier: bool = False

    @property
    def stalled(self) -> bool:
        """Its eligible stewards can no longer reach the quorum on this revision. The
        Nation's own (it tells of conflicts of interest): False to anyone else."""
        if not self.insider or self.earlier:
            return False
        return self.track.status == TrackStatus.REVIEW and self.tally.stalled


@dataclass
class RequestView:
    researcher: User
    datasets: list[tuple[Dataset, list[Nation]]]
    nations: list[Nation]
    tracks: list[TrackView]
    next_steps: list[str]
    changes: list[tuple]
    options: list[Option] = field(default_factory=list)  # what the viewer may do now
    timeline: list[ShownEvent] = field(default_factory=list)
    timeline_continues: bool = False  # older events than the page shows
    fields: dict[str, Any] = field(default_factory=dict)
    # The fields are the researcher's own edits, not yet submitted: no one else reads them.
    unsubmitted: bool = False
    # While a decision is ahead: why what the request says would block a Nation's review
    # or approval (portal/workflow/unmet.py), each Nation's reasons.
    unmet: list[tuple[Nation, list[str]]] = field(default_factory=list)
    agreement: AgreementView | None = None
    reasons: list[Reason] = field(default_factory=list)  # why it is where it is
    # The rules version in force now: a decision made under another reads "the rules
    # changed since", beside that decision only (invariant 9).
    rules_in_force: int | None = None
    obligations: list[ShownObligation] = field(default_factory=list)  # once active

    def obligation_offers(self, obligation_id: int) -> list[Option]:
        return [o for o in self.options if o.obligation == obligation_id]

    outputs: list[OutputSeen] = field(default_factory=list)  # before publication

    def outputs_reviewed_by(self, nation: Nation) -> list[tuple[OutputSeen, NationPart]]:
        """Each output with ``nation``'s part in it, the ones it reviews."""
        return [(o, p) for o in self.outputs for p in o.parts if p.nation.id == nation.id]

    # While a renewal or amendment is open: what it changes from the revision the
    # agreement in force was issued on.
    amendment_changes: list[tuple] = field(default_factory=list)
    amendment_reason: str | None = None  # why the researcher opened it, in their words

    def approved_by(self, nation: Nation) -> bool:
        """Whether ``nation`` approved this revision (it may still refuse until access
        begins: its representative is offered a refusal, not a decision)."""
        return any(
            t.nation.id == nation.id and t.track.status == TrackStatus.APPROVED for t in self.tracks
        )

    def offers(self, action: str) -> list[Option]:
        return [option for option in self.options if option.action == action]

    def offer(self, action: str, nation: Nation | None = None) -> Option | None:
        wanted = nation.id if nation else None
        return next(
            (o for o in self.offers(action) if (o.nation.id if o.nation else None) == wanted),
            None,
        )


def _track_view(session: Session, req: AccessRequest, track, nation, seen: Sight) -> TrackView:
    insider = seen.reads_deliberation(nation)
    reviews = []
    if insider:
        reviews = [
            (r, session.get(User, r.steward_id)) for r in current_reviews(session, req, nation)
        ]
    decision = changes = None
    if seen.reads_sent(nation):
        decision = session.exec(
            select(Decision)
            .where(Decision.request_id == req.id, Decision.nation_id == nation.id)
            .order_by(Decision.id.desc())
        ).first()
        changes = session.exec(
            select(Review)
            .where(
                Review.request_id == req.id,
                Review.nation_id == nation.id,
                Review.recommendation == Recommendation.CHANGES,
            )
            .order_by(Review.id)
        ).all()
    said = []
    if decision is not None:
        catalogue, language = catalogue_of(session, decision.rules_version), current_language()
        location = req.storage_location
        said = [
            standard_words(c, nation, location, catalogue, language) for c in decision.conditions
        ]
    return TrackView(
        nation, track, tally(session, req, nation), insider, reviews, decision,
        list(changes or []), said, of_earlier_revision(req, track),
    )  # fmt: skip


def _amendment_reason(session: Session, req: AccessRequest) -> str | None:
    """The reason the researcher gave when opening the renewal or amendment in progress."""
    opened = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.request_id == req.id,
            AuditEvent.action == EventType.AMENDMENT_OPENED.value,
        )
        .order_by(AuditEvent.id.desc())
    ).first()
    return (opened.details or {}).get("reason") if opened else None


def overview(
    session: Session, user: User, req: AccessRequest, *, with_timeline: bool = True
) -> RequestView:
    """Everything the request page shows ``user``; ``with_timeline=False`` skips the
    events (the API serves them on their own, page by page)."""
    seen = sight(session, user, req)
    # Its researcher reads their own edits not yet submitted; everyone else what was.
    unsubmitted = seen.researcher and req.pending_fields is not None
    if unsubmitted:
        fields = service.working_copy(session, req)
        datasets = service.datasets_named(session, fields["datasets"])
    else:
        fields, datasets = service.snapshot(session, req), service.datasets_of(session, req)
    tracks = [_track_view(session, req, t, n, seen) for t, n in tracks_of(session, req)]
    view = RequestView(
        researcher=session.get(User, req.researcher_id),
        datasets=[(d, nations) for d, nations in _dataset_nations(session, datasets)],
        nations=service.nations_of(session, req),
        tracks=tracks,
        next_steps=[],
        changes=service.titled(session, service.changes_since_previous(session, req)),
        fields=fields,
        unsubmitted=unsubmitted,
        options=available(session, user, req),
        rules_in_force=number_in_force(session),
    )
    if req.phase in DECISION_AHEAD:
        judged = service.as_edited(session, req) if unsubmitted else req
        edited = req.pending_fields.get("datasets") if unsubmitted else None
        concerned = {n.id: n for _d, nations in view.datasets for n in nations}
        view.unmet = [
            (nation, why)
            for nation in sorted(concerned.values(), key=lambda n: n.name)
            if (why := unmet(session, judged, nation, edited))
        ]
    view.agreement = _agreement_seen(session, user, req)
    if req.amendment is not None and (in_force := current_agreement(session, req)) is not None:
        changed = service.changes_since(session, req, in_force.revision, fields)
        view.amendment_changes = service.titled(session, changed)
    if req.amendment is not None:  # found in a browser: the reason was in the timeline only
        view.amendment_reason = _amendment_reason(session, req)
    view.reasons = reasons(session, req, seen)
    view.obligations = shown_obligations(session, req, seen)
    view.outputs = outputs_seen(session, user, req)
    ending = attestations.ending_of(session, req)
    view.next_steps = next_steps(
        req,
        tracks,
        view.options,
        researcher=seen.researcher,
        agreement=view.agreement,
        ended_on=attestations.ended_on(ending) if ending else None,
    )
    if with_timeline:
        latest = session.exec(
            select(AuditEvent)
            .where(AuditEvent.request_id == req.id, listed_to(seen))
            .order_by(AuditEvent.id.desc())
            .limit(LATEST_EVENTS + 1)
        ).all()
        view.timeline = shown_events(session, latest[:LATEST_EVENTS], seen)
        view.timeline_continues = len(latest) > LATEST_EVENTS
    return view


def _agreement_seen(session: Session, user: User, req: AccessRequest) -> AgreementView | None:
    """The agreement as ``user`` may read it: the edition in force (and the pending one),
    or, for a Nation joining through a renewal or amendment, the pending edition alone
    (the one it signs)."""
    if may_read_agreement(session, user, req):
        return agreement_view.view(session, req)
    shown = agreement_view.view(session, req)
    waiting = shown.pending if shown is not None else None
    if waiting is not None and may_read_agreement(session, user, req, waiting.agreement):
        return waiting
    return None


def _dataset_nations(session: Session, datasets: list[Dataset]):
    rows = session.exec(
        select(DatasetNation.dataset_id, Nation)
        .join(Nation, Nation.id == DatasetNation.nation_id)
        .where(DatasetNation.dataset_id.in_([d.id for d in datasets]))
        .order_by(Nation.name)
    ).all()
    found: dict[int, list[Nation]] = {}
    for dataset_id, nation in rows:
        found.setdefault(dataset_id, []).append(nation)
    return [(d, found.get(d.id, [])) for d in datasets]
