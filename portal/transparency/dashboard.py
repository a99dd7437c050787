"""The coordinators' dashboard: requests by status and by Nation, and how long each
stage takes. Counts only: no Nation's reviews, decisions or conditions show here.

Drafts are not counted: they are the researcher's alone until submitted.
"""

import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta

from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.audit.models import AuditChainHead
from portal.auth.models import User
from portal.db import utcnow
from portal.errors import ValidationError
from portal.policy.service import require
from portal.policy.vocabulary import Action
from portal.registry.models import Nation
from portal.requests.models import RequestStatus
from portal.reviews.models import TrackStatus
from portal.transparency import figures
from portal.transparency.stages import StageSummary, summaries

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
        raise ValidationError(
            {"window": _("Choose a window of %(choices)s days.", choices=choices)}
        )
    moment = _moment(session)
    key = (figures.database_of(session), window_days)
    with _LOCK:
        kept = _KEPT.get(key)
    if kept is not None and kept[0] == moment:
        return kept[1]
    view = _compute(session, window_days)
    with _LOCK:
        _KEPT[key] = (moment, view)
    return view


# The figures change only when something happens, and whatever happens writes an audit
# event: each worker keeps the view it last made of a database while the chain's last
# event stays the same and the window has not moved on (the same minute). Making a view
# costs what changed since the last one (transparency/figures.py). The figures hold
# counts only, the same for every reader.
_KEPT: dict[tuple[str, int], tuple[tuple, Dashboard]] = {}
_LOCK = threading.Lock()


def _moment(session: Session) -> tuple:
    last_event = session.exec(select(AuditChainHead.last_event_id, AuditChainHead.last_hash))
    return tuple(last_event.first() or ()), utcnow().replace(second=0, microsecond=0)


def _compute(session: Session, window_days: int) -> Dashboard:
    store = figures.store_for(session)
    nations = list(session.exec(select(Nation)))
    since = utcnow() - timedelta(days=window_days)
    with store.lock:
        counts = +store.counts  # a copy, without the keys that fell to zero
        in_window, found = store.durations_since(since)
    return Dashboard(
        window_days=window_days,
        by_status=[(status, counts.get(("status", status), 0)) for status in COUNTED],
        nations=nation_counts(nations, counts),
        requests_in_window=in_window,
        stages=summaries(found),
    )


def nation_counts(nations: list[Nation], counts: Counter) -> list[NationCounts]:
    """For every Nation: the submitted requests touching its data, by status, and
    those under review that wait for its stewards or its representative. A revoked
    request counts under the Nation that revoked it only: the others did not.
    (``counts``: what figures.counted adds up over every submitted request.)"""
    rows = {nation.id: NationCounts(nation) for nation in nations}
    for key, count in counts.items():
        if key[0] == "nation" and key[1] in rows:
            rows[key[1]].by_status[key[2]] = count
    for nation_id, row in rows.items():
        row.waiting_for_stewards = counts.get(("waiting", nation_id, TrackStatus.REVIEW), 0)
        row.waiting_for_decision = counts.get(("waiting", nation_id, TrackStatus.DECISION), 0)
    # Copies of the Nations, bound to no session: the figures outlive this one.
    found = [replace(row, nation=Nation.model_validate(row.nation)) for row in rows.values()]
    return sorted(found, key=lambda row: row.nation.name)
