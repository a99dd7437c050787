"""Reminders for steps that have waited too long: screening, a Nation's review, its
decision, a signature. A reminder is a message to whoever available() says may act
now (``who_may``), never a change of state (invariant 3): nothing here calls perform().

Each Nation sets how many days its own steps may wait (its governance profile:
``remind_review_days``, ``remind_decision_days``, ``remind_signature_days``; empty:
none); screening waits for the coordinators, whose interval is the portal's
(REMIND_SCREENING_DAYS), and the researcher's signature takes the shortest interval of
the approving Nations. A step is reminded again at most once per interval while it
still waits (the ``reminder`` rows). A destruction attestation past a Nation's due date
(``overdue_attestations``) reminds the researcher, again every that many days (the
shortest of the Nations it is overdue to) while it is still owed. An obligation's
report past its due date (``overdue_reports``) reminds the researcher, once per request
and Nation owed, again every ``remind_report_days`` of that Nation while one is owed.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from portal.agreements import parties
from portal.agreements import service as agreements
from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.db import forget_cached
from portal.lifecycle import attestations
from portal.lifecycle import service as lifecycle
from portal.lifecycle.models import Obligation
from portal.notify.models import Reminder
from portal.notify.service import queue
from portal.registry.models import Nation
from portal.requests.models import AccessRequest, AmendmentPhase, RequestStatus
from portal.reviews.models import TrackStatus
from portal.reviews.service import preload, tracks_of
from portal.workflow.offers import who_may

S = RequestStatus
CHUNK = 500  # waiting requests read at a time
STEP_WORDS = {
    "screen": _l("screening"),
    "review": _l("the stewards' review"),
    "decide": _l("a decision"),
    "sign": _l("a signature on the agreement"),
    "attest_destruction": _l("the destruction attestation"),
    "report_obligation": _l("your report on an obligation"),
}


@dataclass(frozen=True)
class Waiting:
    """A step that waits: on which request, for which Nation (or none), since when,
    and how many days it may wait before a reminder (None: no reminders)."""

    request: AccessRequest
    step: str
    nation: Nation | None
    since: datetime
    days: int | None
    obligation: Obligation | None = None  # a report: the longest overdue of the Nation's


def _waiting_for_the_nations(session: Session, request: AccessRequest) -> list[Waiting]:
    found = []
    for track, nation in tracks_of(session, request):
        if track.status == TrackStatus.REVIEW:
            found.append(
                Waiting(request, "review", nation, track.updated_at, nation.remind_review_days)
            )
        elif track.status == TrackStatus.DECISION:
            days = nation.remind_decision_days
            found.append(Waiting(request, "decide", nation, track.updated_at, days))
    return found


def _waiting_for_signatures(session: Session, request: AccessRequest) -> list[Waiting]:
    signed = agreements.signed_parties(session, agreements.to_sign(session, request))
    found = []
    for party in parties.parties_of(session, request):
        if party.key in signed:
            continue
        if party.nation is None:  # the researcher: as soon as the Nations would remind
            intervals = [
                n.remind_signature_days for n in parties.approving_nations(session, request)
            ]
            days = min((d for d in intervals if d), default=None)
        else:
            days = party.nation.remind_signature_days
        found.append(Waiting(request, "sign", party.nation, request.updated_at, days))
    return found


def waiting_steps(session: Session, screening_days: int | None) -> Iterator[Waiting]:
    """Every step that waits now, on every request that waits for someone, by request.

    A large portal has tens of thousands of such requests: they are read CHUNK at a time,
    each chunk's tracks and reviews in two queries, and what was read for a chunk is let
    go before the next (the caller reminds the steps as they come). Read all at once,
    with their tracks and reviews kept for the transaction, they held over 200 MB in the
    worker that ran the job at 100,000 requests (BENCHMARKS.md, "Memory per worker")."""
    ids = session.exec(select(AccessRequest.id).where(_waits()).order_by(AccessRequest.id)).all()
    for start in range(0, len(ids), CHUNK):
        requests, index = _read(session, ids[start : start + CHUNK]), 0
        while index < len(requests):
            if sa.inspect(requests[index]).expired:
                # The job committed a batch (portal/jobs/batches.py): that expired the
                # rows and ended the caches. What is left of the chunk is read again at
                # once, not one request and its tracks at a time.
                rest = [sa.inspect(r).identity[0] for r in requests[index:]]
                requests[index:] = _read(session, rest)
            yield from _waiting_on(session, requests[index], screening_days)
            index += 1
        del requests
        forget_cached(session)  # the chunk's tracks and reviews: read again if asked


def _waits() -> sa.ColumnElement[bool]:
    """SQL: the request waits for someone (a renewal's or amendment's steps wait alike)."""
    waiting = [S.SCREENING, S.UNDER_REVIEW, S.AWAITING_SIGNATURES]
    phases = [AmendmentPhase(s.value) for s in waiting]
    return sa.or_(AccessRequest.status.in_(waiting), AccessRequest.amendment.in_(phases))


def _read(session: Session, ids: list[int]) -> list[AccessRequest]:
    """Those of these requests that still wait (read again after a commit, one may have
    moved on), by id, and the tracks and reviews of those under review."""
    query = select(AccessRequest).where(AccessRequest.id.in_(ids), _waits())
    requests = list(session.exec(query.order_by(AccessRequest.id)))
    preload(session, [r for r in requests if r.phase == S.UNDER_REVIEW])
    return requests


def _waiting_on(
    session: Session, request: AccessRequest, screening_days: int | None
) -> list[Waiting]:
    if request.phase == S.SCREENING:
        return [Waiting(request, "screen", None, request.updated_at, screening_days)]
    if request.phase == S.UNDER_REVIEW:
        return _waiting_for_the_nations(session, request)
    return _waiting_for_signatures(session, request)


def overdue_attestations(session: Session, now: datetime) -> list[Waiting]:
    """The researcher's destruction attestations past some Nation's due date, one per
    request, waiting since access ended."""
    days_of: dict[int, list[int]] = {}
    for overdue in attestations.overdue_attestations(session, now.date()):
        days_of.setdefault(overdue.request_id, []).append(overdue.nation.attestation_due_days)
    found = []
    for request_id, days in days_of.items():
        request = session.get(AccessRequest, request_id)
        ended_at = attestations.ending_of(session, request).ended_at
        found.append(Waiting(request, "attest_destruction", None, ended_at, min(days)))
    return found


def overdue_reports(session: Session, now: datetime) -> list[Waiting]:
    """Obligations past their due date and not reported: one reminder per request and
    Nation owed, waiting since the longest overdue one fell due, at the Nation's
    ``remind_report_days``."""
    found: dict[tuple[int, int], Waiting] = {}
    for item in lifecycle.overdue(session, now.date(), limit=None):  # longest overdue first
        key = (item.request.id, item.nation.id)
        if key not in found:
            since = datetime.combine(item.obligation.next_due, time(), tzinfo=UTC)
            days = item.nation.remind_report_days
            found[key] = Waiting(
                item.request, "report_obligation", item.nation, since, days, item.obligation
            )
    return list(found.values())


def _last_reminder(session: Session, waiting: Waiting) -> datetime | None:
    nation_id = waiting.nation.id if waiting.nation else None
    return session.exec(
        select(Reminder.sent_at)
        .where(
            Reminder.request_id == waiting.request.id,
            Reminder.step == waiting.step,
            Reminder.nation_id.is_(None) if nation_id is None else Reminder.nation_id == nation_id,
        )
        .order_by(Reminder.sent_at.desc())
        .limit(1)
    ).first()


def is_due(session: Session, waiting: Waiting, now: datetime) -> bool:
    if not waiting.days:
        return False
    interval = timedelta(days=waiting.days)
    last = _last_reminder(session, waiting)
    return now - waiting.since >= interval and (last is None or now - last >= interval)


def remind(session: Session, waiting: Waiting, now: datetime) -> bool:
    """Mail whoever may take the step now; record it and audit it. False if no one may."""
    if waiting.obligation is not None:  # the researcher's step on an obligation
        people = who_may(session, waiting.request, waiting.step, obligation=waiting.obligation)
    else:
        people = who_may(session, waiting.request, waiting.step, waiting.nation)
    if not people:
        return False
    waited = (now - waiting.since).days
    words = STEP_WORDS[waiting.step]
    context = {"step": waiting.step, "step_words": words, "nation": waiting.nation}
    if waiting.obligation is not None:
        context["obligation"] = waiting.obligation
    queue(session, people, "reminder", waiting.request, waited=waited, **context)
    nation_id = waiting.nation.id if waiting.nation else None
    session.add(
        Reminder(request_id=waiting.request.id, step=waiting.step, nation_id=nation_id, sent_at=now)
    )
    nations = [waiting.nation] if waiting.nation else []
    # No names nor head counts: who a Nation's step waits for is its own (invariant 9).
    details = {"step": waiting.step, "waited_days": waited}
    record_event(
        session,
        action=EventType.REMINDER_SENT,
        actor=None,
        request=waiting.request,
        nations=nations,
        details=details,
    )
    session.flush()
    return True


def remind_if_due(session: Session, waiting: Waiting, now: datetime) -> bool:
    """Remind the step if it has waited longer than its interval; whether it was."""
    return is_due(session, waiting, now) and remind(session, waiting, now)


def every_step(session: Session, now: datetime, screening_days: int | None) -> Iterator[Waiting]:
    """Every step that waits, as it is read, to be reminded one by one (the reminders
    job, portal/jobs/registry.py, commits a batch at a time): never all held at once."""
    yield from waiting_steps(session, screening_days)
    yield from overdue_attestations(session, now)
    yield from overdue_reports(session, now)
