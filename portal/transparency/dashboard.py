"""The coordinators' dashboard: requests by status and by Nation, and how long each
stage takes. Counts only: no Nation's reviews, decisions or conditions show here.

Drafts are not counted: they are the researcher's alone until submitted.
"""

import threading
from collections import defaultdict
from dataclasses import dataclass, field, replace

import sqlalchemy as sa
from sqlmodel import Session, select

from portal.audit.models import AuditChainHead
from portal.auth.models import User
from portal.db import utcnow
from portal.errors import ValidationError
from portal.policy.service import require
from portal.policy.vocabulary import Action
from portal.registry.models import DatasetNation, Nation
from portal.requests.models import AccessRequest, RequestDataset, RequestStatus
from portal.reviews.models import NationTrack, TrackStatus
from portal.transparency.stages import StageSummary, stage_times

WINDOWS = (30, 90, 365, 1095)  # days a dashboard may look back over
DEFAULT_WINDOW = 365
COUNTED = [status for status in RequestStatus if status != RequestStatus.DRAFT]


@dataclass
class NationCounts:
    nation: Nation
    by_status: dict[RequestStatus, int] = field(default_factory=dict)
    waiting_for_stewards: int = 0  # under review, the Nation's stewards not yet at quorum
    waiting_for_decision: int = 0  # quorum met, its representative has not decided

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass
class Dashboard:
    window_days: int
    by_status: list[tuple[RequestStatus, int]]  # every status but draft, in workflow order
    nations: list[NationCounts]
    requests_in_window: int
    stages: list[StageSummary]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.by_status)

    @property
    def statuses_in_use(self) -> list[RequestStatus]:
        return [status for status, count in self.by_status if count]


def dashboard(session: Session, user: User, window_days: int = DEFAULT_WINDOW) -> Dashboard:
    require(session, user, Action.VIEW_DASHBOARD)
    if window_days not in WINDOWS:
        choices = ", ".join(str(days) for days in WINDOWS)
        raise ValidationError({"window": f"Choose a window of {choices} days."})
    moment = _moment(session)
    with _LOCK:
        kept = _KEPT.get(window_days)
    if kept is not None and kept[0] == moment:
        return kept[1]
    view = _compute(session, window_days)
    with _LOCK:
        _KEPT[window_days] = (moment, view)
    return view


# The figures count every submitted request and time the stages of every request in the
# window, a cost that grows with the portal. They change only when something happens,
# and whatever happens writes an audit event; so each worker keeps the figures it last
# computed while the chain's last event stays the same and the window has not moved on
# (the same minute). The figures hold counts only, the same for every reader.
_KEPT: dict[int, tuple[tuple, Dashboard]] = {}
_LOCK = threading.Lock()


def _moment(session: Session) -> tuple:
    last_event = session.exec(select(AuditChainHead.last_event_id)).first()
    return last_event, utcnow().replace(second=0, microsecond=0)


def _compute(session: Session, window_days: int) -> Dashboard:
    counts = dict(
        session.exec(
            select(AccessRequest.status, sa.func.count())
            .where(AccessRequest.status != RequestStatus.DRAFT)
            .group_by(AccessRequest.status)
        ).all()
    )
    in_window, stages = stage_times(session, window_days)
    return Dashboard(
        window_days=window_days,
        by_status=[(status, counts.get(status, 0)) for status in COUNTED],
        nations=nation_counts(session),
        requests_in_window=in_window,
        stages=stages,
    )


def nation_counts(session: Session) -> list[NationCounts]:
    """For every Nation: the submitted requests touching its data, by status, and
    those under review that wait for its stewards or its representative. A revoked
    request counts under the Nation that revoked it only: the others did not."""
    rows = {nation.id: NationCounts(nation) for nation in session.exec(select(Nation))}
    requests = sa.func.count(sa.distinct(AccessRequest.id))  # once, however many datasets
    touching = session.exec(
        select(DatasetNation.nation_id, AccessRequest.status, requests)
        .join(RequestDataset, RequestDataset.dataset_id == DatasetNation.dataset_id)
        .join(AccessRequest, AccessRequest.id == RequestDataset.request_id)
        .where(AccessRequest.status.not_in([RequestStatus.DRAFT, RequestStatus.REVOKED]))
        .group_by(DatasetNation.nation_id, AccessRequest.status)
    )
    for nation_id, status, count in touching:
        rows[nation_id].by_status[status] = count
    for nation_id, count in session.exec(
        select(NationTrack.nation_id, sa.func.count())
        .join(AccessRequest, AccessRequest.id == NationTrack.request_id)
        .where(
            AccessRequest.status == RequestStatus.REVOKED,
            NationTrack.status == TrackStatus.REVOKED,
        )
        .group_by(NationTrack.nation_id)
    ):
        rows[nation_id].by_status[RequestStatus.REVOKED] = count
    waiting: dict[tuple[int, TrackStatus], int] = defaultdict(int)
    for nation_id, track_status, count in session.exec(
        select(NationTrack.nation_id, NationTrack.status, sa.func.count())
        .join(AccessRequest, AccessRequest.id == NationTrack.request_id)
        .where(AccessRequest.status == RequestStatus.UNDER_REVIEW)
        .group_by(NationTrack.nation_id, NationTrack.status)
    ):
        waiting[nation_id, track_status] = count
    for nation_id, row in rows.items():
        row.waiting_for_stewards = waiting[nation_id, TrackStatus.REVIEW]
        row.waiting_for_decision = waiting[nation_id, TrackStatus.DECISION]
    # Copies of the Nations, bound to no session: the figures outlive this one.
    found = [replace(row, nation=Nation.model_validate(row.nation)) for row in rows.values()]
    return sorted(found, key=lambda row: row.nation.name)
