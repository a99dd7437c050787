"""When an obligation falls due, as a Nation says it: a date ("2027-06-30"), a period
("every 12 months") or an event ("before_publication", "at_end"). The one grammar of
the decide form, the API and the catalogue's default per standard condition."""

import re
from dataclasses import dataclass
from datetime import date

from portal.lifecycle.models import DueEvent, DueKind
from portal.validation import day

MAX_MONTHS = 120
# On a line of a Nation's own conditions (the decide page), what follows says when it
# falls due; so no condition may hold it, nor a line break.
DUE_MARKER = "| due:"
DEFAULT = DueEvent.AT_END.value  # a condition with no due of its own: at the end
_PERIOD = re.compile(r"every\s+(\d{1,3})\s+months?", re.IGNORECASE)


@dataclass(frozen=True)
class Spelling:
    """How the decide form writes a due in one language: after its marker, a period
    (``{months}``) or an event's word. Dates are ISO in every language."""

    marker: str
    period: str
    events: dict[str, str]


# The decide form speaks the page's language; what it hands the workflow (and what a
# decision stores and the API gives) is always the English spelling parse() reads.
SPELLINGS = {
    "en": Spelling(DUE_MARKER, "every {months} months", {e.value: e.value for e in DueEvent}),
    "fr": Spelling(
        "| échéance :",
        "tous les {months} mois",
        {DueEvent.BEFORE_PUBLICATION.value: "avant_publication", DueEvent.AT_END.value: "à_la_fin"},
    ),
}
# A form's line: the condition, then any language's marker (spaces before the colon
# optional, as French typography puts one), then its due.
FORM_MARKER = re.compile(
    r"\|\s*(?:" + "|".join(re.escape(s.marker.strip("|: ")) for s in SPELLINGS.values()) + r")\s*:",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Due:
    kind: DueKind
    on: date | None = None
    months: int | None = None
    event: DueEvent | None = None

    @property
    def words(self) -> str:
        """When it falls due, in the language spoken now (the API's: English)."""
        from flask_babel import gettext as _

        if self.kind is DueKind.DATE:
            return _("by %(date)s", date=self.on.isoformat())
        if self.kind is DueKind.PERIOD:
            return _("every %(months)s months", months=self.months)
        if self.event is DueEvent.BEFORE_PUBLICATION:
            return _("before publication")
        return _("at the end")


def parse(spec: str) -> Due:
    """The due ``spec`` names; ValueError (saying what is allowed) if it names none."""
    from flask_babel import gettext as _

    text = " ".join(str(spec).split()).lower().replace(" ", "_")
    for event in DueEvent:
        if text == event.value:
            return Due(DueKind.EVENT, event=event)
    if match := _PERIOD.fullmatch(text.replace("_", " ")):
        months = int(match.group(1))
        if 1 <= months <= MAX_MONTHS:
            return Due(DueKind.PERIOD, months=months)
        raise ValueError(_("A period is 1 to %(most)s months.", most=MAX_MONTHS))
    try:
        return Due(DueKind.DATE, on=day(text))
    except ValueError:
        message = _(
            '%(spec)s is not a due date: give a date (2027-06-30), "every 12 months", '
            '"before_publication" or "at_end".',
            spec=repr(spec),
        )
        raise ValueError(message) from None


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


def spelled(spec: str, language: str) -> str:
    """The English ``spec`` (as stored) as the decide form writes it in ``language``."""
    spelling = SPELLINGS.get(language, SPELLINGS["en"])
    try:
        due = parse(spec)
    except ValueError:
        return spec
    if due.kind is DueKind.PERIOD:
        return spelling.period.format(months=due.months)
    if due.kind is DueKind.EVENT:
        return spelling.events[due.event.value]
    return due.on.isoformat()


def from_form(text: str) -> str:
    """A due as a person typed it on the decide form, in any language's spelling, as the
    English spec parse() reads; what no spelling names is left as typed, for parse() to
    refuse in words."""
    plain = " ".join(text.split())
    word = plain.lower().replace(" ", "_")
    for spelling in SPELLINGS.values():
        months = re.escape(spelling.period).replace(re.escape("{months}"), r"(\d{1,3})")
        if match := re.fullmatch(months.replace(r"\ ", r"\s+"), plain, re.IGNORECASE):
            return f"every {match.group(1)} months"
        for event, spelled_event in spelling.events.items():
            if word == spelled_event:
                return event
    return plain
