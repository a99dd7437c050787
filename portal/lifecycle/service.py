"""Obligations: made from the Nations' conditions when access begins, then reported on
by the researcher and assessed by each Nation. Nothing here touches a decision, a track
or the request's status: an obligation never changes a decision by itself."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from portal.db import TransactionCache, could_be_id, utcnow
from portal.lifecycle import continuity
from portal.lifecycle.models import DueEvent, DueKind, Obligation, ObligationState
from portal.registry.models import Nation
from portal.requests.models import AccessRequest, RequestStatus
from portal.reviews import due as dues
from portal.reviews.models import Decision, Outcome
from portal.reviews.terms import catalogue_of

OWING = (ObligationState.OPEN, ObligationState.NOT_MET)
# Obligations bind while access lasts and after it ends (return or destruction is due
# at the end of the term, or at once when a Nation revokes).
BINDING = frozenset({RequestStatus.ACTIVE, RequestStatus.EXPIRED, RequestStatus.REVOKED})


def default_due(session: Session, decision: Decision, condition: dict) -> str:
    """The due a condition carries: the representative's, else its standard
    condition's in the catalogue it was chosen from, else at the end."""
    if condition.get("due"):
        return condition["due"]
    entry = catalogue_of(session, decision.rules_version).get(condition.get("code", ""), {})
    return entry.get("due") or dues.DEFAULT


def create_for(
    session: Session, request: AccessRequest, start: date, term_end: date
) -> list[Obligation]:
    """One obligation per condition of each Nation's standing approval (its latest
    decision on the approved revision), in the activation's transaction. For a new
    edition (after ``supersede``), a condition the Nation kept continues the obligation
    made before (portal/lifecycle/continuity.py)."""
    earlier = of_request(session, request)
    made = []
    for decision in _approvals(session, request):
        for condition in decision.conditions:
            due = dues.parse(default_due(session, decision, condition))
            source = condition.get("code") or "custom"
            before = continuity.earlier_one(
                earlier, decision.nation_id, source, condition["text"], due
            )
            if not continuity.owed_again(before, due):
                if before.superseded_by is not None and not before.state.settled:
                    before.superseded_by = None  # still owed: it goes on as this edition's
                    session.add(before)
                continue
            obligation = Obligation(
                request_id=request.id,
                nation_id=decision.nation_id,
                source=source,
                text=condition["text"],
                due_kind=due.kind,
                due_date=due.on,
                period_months=due.months,
                due_event=due.event,
                next_due=continuity.next_due(before, due, start, term_end),
            )
            session.add(obligation)
            made.append(obligation)
    session.flush()
    return made


def ends_now(session: Session, request: AccessRequest, today: date) -> None:
    """Access ended early (a Nation revoked, the researcher closed): what was due at the
    end is due now, and a period that would begin after the end is owed nothing."""
    for obligation in of_request(session, request):
        _due_now(session, obligation, today)
        _no_period_after(session, obligation, today)


def _no_period_after(session: Session, obligation: Obligation, ended: date) -> None:
    """A periodic obligation owes the report of the period that ends on its next due.
    One that begins on or after the day access ended (a report met ahead of its due
    opened it while access was to last) never runs: nothing is owed on it and the
    obligation is done, as _next_period decides when the end comes first. A period cut
    short by the end ran: its report stays owed, taken at once (report_opens)."""
    periodic = obligation.due_kind is DueKind.PERIOD and obligation.next_due is not None
    if not periodic or obligation.state is not ObligationState.OPEN:
        return
    began = dues.add_months(obligation.next_due, -obligation.period_months)
    if _begins_after(began, ended):
        obligation.state, obligation.updated_at = ObligationState.MET, utcnow()
        session.add(obligation)


def _begins_after(began: date, access_ends: date | None) -> bool:
    """Whether a period that begins on ``began`` begins once access has ended."""
    return access_ends is not None and began >= access_ends


def supersede(
    session: Session, request: AccessRequest, edition: int, today: date
) -> list[Obligation]:
    """``edition`` took effect; call before its obligations are made. Its conditions
    replace the old ones of each Nation that decided afresh: what they asked that is not
    yet due is superseded (owed once, never on the old term's dates); what is overdue,
    or reported and awaiting the Nation's assessment, stays owed, as its last report. A
    Nation the edition leaves out keeps its obligations, and what was due at the end is
    due now: access to its data has ended. Returns those superseded."""
    decided_afresh = {decision.nation_id for decision in _approvals(session, request)}
    superseded = []
    for obligation in of_request(session, request):
        if obligation.state.settled or obligation.superseded_by is not None:
            continue
        if obligation.nation_id not in decided_afresh:
            _due_now(session, obligation, today)
            continue
        obligation.superseded_by = edition
        if obligation.state in OWING and not is_overdue(obligation, today):
            obligation.state = ObligationState.SUPERSEDED
            obligation.updated_at = utcnow()
            superseded.append(obligation)
        session.add(obligation)
    return superseded


def _due_now(session: Session, obligation: Obligation, today: date) -> None:
    due_later = obligation.next_due is None or obligation.next_due > today
    if obligation.due_event is DueEvent.AT_END and obligation.state in OWING and due_later:
        obligation.next_due = today
        session.add(obligation)


def _approvals(session: Session, request: AccessRequest) -> list[Decision]:
    latest: dict[int, Decision] = {}
    rows = session.exec(
        select(Decision)
        .where(Decision.request_id == request.id, Decision.revision == request.current_revision)
        .order_by(Decision.id)
    )
    for decision in rows:
        latest[decision.nation_id] = decision
    return [d for d in latest.values() if d.outcome == Outcome.APPROVE]


# Per transaction: the home page's obligation queues ask each active request's
# obligations once per step they offer (report, assess, waive).
_cache = TransactionCache("portal.lifecycle.obligations", (Obligation,))


def of_request(session: Session, request: AccessRequest) -> list[Obligation]:
    if (found := _cache(session).get(request.id)) is None:
        found = preload(session, [request])[request.id]
    return list(found)


def preload(session: Session, requests: list[AccessRequest]) -> dict[int, list[Obligation]]:
    """The obligations of every one of ``requests`` in one query, kept for this
    transaction (by the Nation, then as made); returns them by request id."""
    found: dict[int, list[Obligation]] = {request.id: [] for request in requests}
    if not found:
        return found
    query = select(Obligation).where(Obligation.request_id.in_(list(found)))
    for obligation in session.exec(query.order_by(Obligation.nation_id, Obligation.id)):
        found[obligation.request_id].append(obligation)
    _cache(session).update(found)  # after the query: its autoflush may empty the cache
    return found


def find(
    session: Session, request: AccessRequest, obligation_id: object, *, lock: bool = True
) -> Obligation | None:
    """The request's obligation ``obligation_id`` (locked to change it), else None."""
    if not could_be_id(obligation_id):  # no such row (and none the database would take)
        return None
    obligation = session.get(Obligation, obligation_id, with_for_update=lock)
    return obligation if obligation and obligation.request_id == request.id else None


def report(obligation: Obligation, text: str, file_digest: str | None = None) -> None:
    obligation.state = ObligationState.REPORTED
    obligation.report_text = text
    obligation.report_file_digest = file_digest
    obligation.reported_at = obligation.updated_at = utcnow()


def assess(
    obligation: Obligation,
    outcome: ObligationState,
    comment: str,
    tell: bool,
    assessor_id: int,
    access_ends: date | None,
) -> None:
    """Record the Nation's assessment. A periodic obligation met opens again for its next
    period, unless a later edition replaced it or that period begins after access ends
    (``access_ends``: the day access ended, or the term's last day while it lasts); the
    comment stays with the row (the Nation's own unless it tells)."""
    obligation.assessment_comment = comment
    obligation.tell_researcher = tell
    obligation.assessed_at = obligation.updated_at = utcnow()
    obligation.assessed_by_id = assessor_id
    periodic = obligation.due_kind is DueKind.PERIOD and obligation.next_due is not None
    replaced = obligation.superseded_by is not None
    # One replaced by a later edition's conditions owed its last report: met, it is done.
    # A one-off reported before it fell due and found not met is owed, if at all, as the
    # new edition's conditions say; a periodic one still owes its period's report.
    if outcome is ObligationState.MET and periodic and not replaced:
        _next_period(obligation, access_ends)
    elif (
        outcome is ObligationState.NOT_MET
        and replaced
        and not periodic
        and _reported_before_due(obligation)
    ):
        obligation.state = ObligationState.SUPERSEDED
    else:
        obligation.state = outcome


def _next_period(obligation: Obligation, access_ends: date | None) -> None:
    """A periodic obligation's report was met: the period that began on its due is owed
    only if it began before access ends (its report falls due as scheduled, after the
    end too: an early end keeps it, see ends_now); otherwise the obligation is done."""
    if _begins_after(obligation.next_due, access_ends):
        obligation.state = ObligationState.MET
        return
    obligation.state = ObligationState.OPEN
    obligation.next_due = dues.add_months(obligation.next_due, obligation.period_months)


# A report is taken (and waits in the researcher's queue) from so long before it falls
# due. A periodic report counts for the period in which it falls due, so before that
# window it is not taken: found in a browser walk, a yearly report made in the first week
# of access counted for the whole year.
REPORT_AHEAD = timedelta(days=30)


def report_opens(obligation: Obligation, access_ended: date | None) -> date | None:
    """The day the report ``obligation`` owes now is due to be made from: REPORT_AHEAD
    before it next falls due, or the day access ended if that came first (nothing more
    happens in the period then in progress). None when no date governs it (due on an
    event) or it was found not met (owed again at once)."""
    if obligation.state is ObligationState.NOT_MET or obligation.next_due is None:
        return None
    opens = obligation.next_due - REPORT_AHEAD
    return min(opens, access_ended) if access_ended is not None else opens


def report_not_yet(obligation: Obligation, today: date, access_ended: date | None) -> date | None:
    """The day a periodic obligation's report is taken from, while that is still ahead of
    ``today`` (else None). A one-off may be done and reported ahead of its date."""
    if obligation.due_kind is not DueKind.PERIOD or not obligation.state.owes_report:
        return None
    opens = report_opens(obligation, access_ended)
    return opens if opens is not None and opens > today else None


def is_overdue(obligation: Obligation, today: date) -> bool:
    return obligation.state in OWING and _fell_due(obligation, today)


def _fell_due(obligation: Obligation, today: date) -> bool:
    return obligation.next_due is not None and obligation.next_due < today


def _reported_before_due(obligation: Obligation) -> bool:
    """Whether its report came before it fell due (on the day of the report, here)."""
    reported = obligation.reported_at
    return reported is not None and not _fell_due(obligation, reported.astimezone().date())


@dataclass(frozen=True)
class Overdue:
    """An overdue obligation: its request, its Nation, what and since when (no report,
    no assessment: whoever reads this list reads that much of it)."""

    obligation: Obligation
    request: AccessRequest
    nation: Nation


def overdue(
    session: Session,
    today: date,
    *,
    nations: list[Nation] | None = None,
    researcher_id: int | None = None,
    limit: int | None = 100,
) -> list[Overdue]:
    """Obligations of active (or ended) requests past their due date and not reported, the longest
    overdue first: of ``nations`` (their own), of ``researcher_id``'s requests, or all
    (None for both: the coordinators' view, the status only)."""
    query = (
        select(Obligation, AccessRequest, Nation)
        .join(AccessRequest, AccessRequest.id == Obligation.request_id)
        .join(Nation, Nation.id == Obligation.nation_id)
        .where(
            AccessRequest.status.in_([s.value for s in BINDING]),
            Obligation.state.in_([s.value for s in OWING]),
            Obligation.next_due.is_not(None),
            Obligation.next_due < today,
        )
    )
    if nations is not None:
        query = query.where(Obligation.nation_id.in_([n.id for n in nations]))
    if researcher_id is not None:
        query = query.where(AccessRequest.researcher_id == researcher_id)
    query = query.order_by(Obligation.next_due, Obligation.id)
    if limit is not None:  # a page shows so many; the reminders job reads them all
        query = query.limit(limit)
    return [Overdue(o, r, n) for o, r, n in session.exec(query)]
