"""When a new edition's decisions make obligations, a condition a Nation kept (the same
condition, with the same due) continues the one made under the edition before rather
than starting afresh: a new edition neither asks again for what was done or is still
owed, nor skips a report or brings one forward. Pure functions over the rows; the
service (portal/lifecycle/service.py) makes and stores them."""

from collections.abc import Sequence
from datetime import date

from portal.lifecycle.models import DueKind, Obligation, ObligationState
from portal.reviews import due as dues


def key_of(source: str, text: str) -> str:
    """What makes two conditions the same: a standard one's code (its words are printed
    afresh from the catalogue), a Nation's own words."""
    return text if source == "custom" else source


def earlier_one(
    earlier: Sequence[Obligation], nation_id: int, source: str, text: str, due: dues.Due
) -> Obligation | None:
    """The latest of ``earlier`` for the same Nation, condition and due, if any."""
    same = [
        old
        for old in earlier
        if old.nation_id == nation_id
        and key_of(old.source, old.text) == key_of(source, text)
        and (old.due_kind, old.due_date, old.period_months, old.due_event)
        == (due.kind, due.on, due.months, due.event)
    ]
    return max(same, key=lambda old: old.id) if same else None


def owed_again(before: Obligation | None, due: dues.Due) -> bool:
    """Whether the condition makes a new obligation: not for a one-off date the one
    before met, was waived, or still owes (only a superseded one hands it over; one
    still owed goes on as the new edition's)."""
    return not (
        before is not None
        and due.kind is DueKind.DATE
        and before.state is not ObligationState.SUPERSEDED
    )


def next_due(before: Obligation | None, due: dues.Due, start: date, term_end: date) -> date | None:
    """When the new obligation first falls due. A periodic one takes over the schedule
    of the one before: its due, if superseded before it fell due; else (still owed, or
    met, for its period) the first of its later dues on or after ``start``."""
    first = dues.first_due(due, start, term_end)
    if before is None or due.kind is not DueKind.PERIOD or before.next_due is None:
        return first
    if before.state is ObligationState.SUPERSEDED:
        return before.next_due
    if before.superseded_by is None:  # waived, or never replaced: a schedule of its own
        return first
    day = dues.add_months(before.next_due, due.months)
    while day < start:
        day = dues.add_months(day, due.months)
    return day
