"""How long requests spend in each stage, measured between the timestamps of their
audit events (the record every transition writes, so nothing else needs keeping).

The window is bounded by request: those first submitted in the last N days, with
every stage event they have had since. A stage still under way has no duration yet.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from portal.audit.events import EventType as E
from portal.audit.models import AuditEvent, AuditEventNation
from portal.requests.models import RequestStatus


@dataclass(frozen=True)
class Stage:
    key: str
    name: str  # in the language spoken now (a lazy string)
    definition: str  # where it starts and ends, in words


STAGES = (
    Stage(
        "screening",
        _l("Screening"),
        _l(
            "From a submission (or a resubmission) to the coordinator's screening: "
            "accepted for the Nations' review, or returned to the researcher."
        ),
    ),
    Stage(
        "revision",
        _l("Revision by the researcher"),
        _l(
            "From a return at screening, or a steward's request for changes, "
            "to the researcher's next submission."
        ),
    ),
    Stage(
        "nation",
        _l("A Nation's review and decision"),
        _l(
            "From acceptance at screening to that Nation's decision (approval or refusal), "
            "counted once for each Nation on each accepted revision."
        ),
    ),
    Stage(
        "outcome",
        _l("Submission to outcome"),
        _l(
            "From the first submission to the outcome: the approval that completed every "
            "Nation's approval, or the refusal."
        ),
    ),
)
STAGE_ACTIONS = (
    E.REQUEST_SUBMITTED,
    E.REQUEST_RETURNED,
    E.REQUEST_SCREENED,
    E.REQUEST_CHANGES_REQUESTED,
    E.REQUEST_WITHDRAWN,
    E.DECISION_APPROVED,
    E.DECISION_REFUSED,
)


@dataclass(frozen=True)
class StageEvent:
    action: str
    at: datetime
    nation_id: int | None  # the deciding Nation, for decisions


@dataclass(frozen=True)
class StageSummary:
    stage: Stage
    samples: int
    median: float | None  # seconds
    p90: float | None  # seconds


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between the two nearest ranks (as spreadsheets' PERCENTILE)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def durations(events: Iterable[StageEvent], status: RequestStatus) -> dict[str, list[float]]:
    """Each stage's durations, in seconds, in one request's events (oldest first)."""
    found: dict[str, list[float]] = {stage.key: [] for stage in STAGES}
    first = submitted = screened = paused = None
    decided: set[int | None] = set()
    last = {E.DECISION_APPROVED: None, E.DECISION_REFUSED: None}
    for event in events:
        if event.action == E.REQUEST_SUBMITTED:
            first = first or event.at
            if paused:
                found["revision"].append((event.at - paused).total_seconds())
            submitted, screened, paused = event.at, None, None
        elif event.action in (E.REQUEST_SCREENED, E.REQUEST_RETURNED):
            if submitted:
                found["screening"].append((event.at - submitted).total_seconds())
            submitted = None
            if event.action == E.REQUEST_SCREENED:
                screened, decided = event.at, set()
            else:
                paused = event.at
        elif event.action == E.REQUEST_CHANGES_REQUESTED:
            screened, paused = None, event.at
        elif event.action == E.REQUEST_WITHDRAWN:
            submitted = screened = paused = None
        elif event.action in last:
            last[event.action] = event.at
            if screened and event.nation_id not in decided:
                decided.add(event.nation_id)
                found["nation"].append((event.at - screened).total_seconds())
    if status == RequestStatus.REFUSED:
        outcome = last[E.DECISION_REFUSED]
    else:
        outcome = last[E.DECISION_APPROVED] if status.approved_by_every_nation else None
    if first and outcome:
        found["outcome"].append((outcome - first).total_seconds())
    return found


def stage_events_of(session: Session, request_ids: list[int] | None) -> dict[int, list[StageEvent]]:
    """The stage events of each of ``request_ids`` (of every request: None), oldest
    first (a decision's with the deciding Nation)."""
    among = AuditEvent.request_id.in_(request_ids) if request_ids is not None else sa.true()
    rows = session.exec(
        select(
            AuditEvent.request_id,
            AuditEvent.action,
            AuditEvent.occurred_at,
            AuditEventNation.nation_id,
        )
        .outerjoin(
            AuditEventNation,
            sa.and_(
                AuditEventNation.event_id == AuditEvent.id,
                AuditEvent.action.in_((E.DECISION_APPROVED, E.DECISION_REFUSED)),
            ),
        )
        .where(among, AuditEvent.action.in_(STAGE_ACTIONS))
        .order_by(AuditEvent.request_id, AuditEvent.id)
    )
    found: dict[int, list[StageEvent]] = {}
    for request_id, action, at, nation_id in rows:
        found.setdefault(request_id, []).append(StageEvent(action, at, nation_id))
    return found


def summaries(found: dict[str, list[float]]) -> list[StageSummary]:
    """Each stage's median and 90th percentile over its durations (seconds)."""
    ordered = {key: sorted(values) for key, values in found.items()}  # sorted again: O(n)
    return [
        StageSummary(stage, len(values), percentile(values, 0.5), percentile(values, 0.9))
        for stage, values in ((stage, ordered[stage.key]) for stage in STAGES)
    ]


def format_duration(seconds: float | None) -> str:
    """A duration as a person reads it: minutes, hours or days."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return _("%(minutes)s min", minutes=round(seconds / 60))
    if seconds < 48 * 3600:
        return _("%(hours)s hours", hours=_tenths(seconds / 3600))
    return _("%(days)s days", days=_tenths(seconds / 86400))


def _tenths(value: float) -> str:
    """A number with one decimal, written as the language spoken writes it (1.5, 1,5)."""
    return format_decimal(round(value, 1), "0.0")
