"""When an obligation falls due, as a Nation says it: a date ("2027-06-30"), a period
("every 12 months") or an event ("before_publication", "at_end"). The one grammar of
the decide form, the API and the catalogue's default per standard condition."""

import re
from dataclasses import dataclass
from datetime import date

from portal.lifecycle.models import DueEvent, DueKind

MAX_MONTHS = 120
DEFAULT = DueEvent.AT_END.value  # a condition with no due of its own: at the end
_PERIOD = re.compile(r"every\s+(\d{1,3})\s+months?", re.IGNORECASE)
HINT = 'a date (2027-06-30), "every 12 months", "before_publication" or "at_end"'


@dataclass(frozen=True)
class Due:
    kind: DueKind
    on: date | None = None
    months: int | None = None
    event: DueEvent | None = None

    @property
    def words(self) -> str:
        if self.kind is DueKind.DATE:
            return f"by {self.on.isoformat()}"
        if self.kind is DueKind.PERIOD:
            return f"every {self.months} months"
        return "before publication" if self.event is DueEvent.BEFORE_PUBLICATION else "at the end"


def parse(spec: str) -> Due:
    """The due ``spec`` names; ValueError (saying what is allowed) if it names none."""
    text = " ".join(str(spec).split()).lower().replace(" ", "_")
    for event in DueEvent:
        if text == event.value:
            return Due(DueKind.EVENT, event=event)
    if match := _PERIOD.fullmatch(text.replace("_", " ")):
        months = int(match.group(1))
        if 1 <= months <= MAX_MONTHS:
            return Due(DueKind.PERIOD, months=months)
        raise ValueError(f"A period is 1 to {MAX_MONTHS} months.")
    try:
        return Due(DueKind.DATE, on=date.fromisoformat(text))
    except ValueError:
        raise ValueError(f"{spec!r} is no due: give {HINT}.") from None


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def first_due(due: Due, start: date, term_end: date) -> date | None:
    """The date it first falls due for access that starts on ``start``."""
    if due.kind is DueKind.DATE:
        return due.on
    if due.kind is DueKind.PERIOD:
        return add_months(start, due.months)
    return term_end if due.event is DueEvent.AT_END else None
