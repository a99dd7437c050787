"""When an obligation falls due (portal/reviews/due.py), the one grammar of the decide
form, the API and the catalogue: a date, a period of 1 to 120 months or an event, read
however it is spaced or capitalised; anything else refused with words saying what is
allowed; a period counted in calendar months (the month's last day when it is shorter);
the first due of each kind, and each said in words. Each test kills mutants of due.py
that the rest of the suite let live: a bound moved by one, a spelling no longer read or
one read that should not be, a month's end miscounted, a kind said as another."""

from datetime import date

import pytest

from portal.i18n import speaking
from portal.lifecycle.models import DueEvent, DueKind
from portal.reviews.due import Due, add_months, first_due, parse

AT_END = Due(DueKind.EVENT, event=DueEvent.AT_END)
BEFORE_PUBLICATION = Due(DueKind.EVENT, event=DueEvent.BEFORE_PUBLICATION)
ALLOWED = 'give a date (2027-06-30), "every 12 months", "before_publication" or "at_end".'
PERIOD_BOUNDS = "A period is 1 to 120 months."


@pytest.fixture
def english(app):
    with app.test_request_context(), speaking("en"):
        yield


READ = [
    ("at_end", AT_END),
    ("AT_END", AT_END),
    ("at end", AT_END),
    ("  At   End ", AT_END),
    ("before_publication", BEFORE_PUBLICATION),
    ("Before Publication", BEFORE_PUBLICATION),
    ("before\tpublication\n", BEFORE_PUBLICATION),
    ("every 12 months", Due(DueKind.PERIOD, months=12)),
    ("Every  6  Months", Due(DueKind.PERIOD, months=6)),
    ("every_6_months", Due(DueKind.PERIOD, months=6)),
    ("every 1 month", Due(DueKind.PERIOD, months=1)),
    ("every 1 months", Due(DueKind.PERIOD, months=1)),
    ("every 120 months", Due(DueKind.PERIOD, months=120)),
    ("every 007 months", Due(DueKind.PERIOD, months=7)),
    ("2027-06-30", Due(DueKind.DATE, on=date(2027, 6, 30))),
    (" 2027-06-30 ", Due(DueKind.DATE, on=date(2027, 6, 30))),
]


@pytest.mark.parametrize(("spec", "due"), READ, ids=[repr(spec) for spec, _ in READ])
def test_each_spelling_of_a_due_is_read(english, spec, due):
    assert parse(spec) == due


NOT_A_DUE = [
    ("someday", "'someday'"),
    ("", "''"),
    ("every12 months", "'every12 months'"),
    ("every 12months", "'every 12months'"),
    ("every 12 months please", "'every 12 months please'"),
    ("every 1000 months", "'every 1000 months'"),
    ("every -1 months", "'every -1 months'"),
    ("every twelve months", "'every twelve months'"),
    ("at_end_of_access", "'at_end_of_access'"),
    ("2027-02-30", "'2027-02-30'"),
    # Python's fromisoformat reads these as days; no one writing a due means them.
    ("20270630", "'20270630'"),
    ("2027-W26-3", "'2027-W26-3'"),
    ("2027-06-30T00:00", "'2027-06-30T00:00'"),
    ("2027-6-30", "'2027-6-30'"),
    (12, "12"),
]


@pytest.mark.parametrize(("spec", "named"), NOT_A_DUE, ids=[repr(s) for s, _ in NOT_A_DUE])
def test_what_is_not_a_due_is_refused_naming_what_was_given_and_what_is_allowed(
    english, spec, named
):
    with pytest.raises(ValueError) as refused:
        parse(spec)
    assert str(refused.value) == f"{named} is not a due date: {ALLOWED}"


@pytest.mark.parametrize("spec", ["every 0 months", "every 121 months", "every 999 months"])
def test_a_period_outside_1_to_120_months_is_refused_saying_the_bounds(english, spec):
    with pytest.raises(ValueError) as refused:
        parse(spec)
    assert str(refused.value) == PERIOD_BOUNDS


MONTHS_LATER = [
    (date(2026, 1, 15), 1, date(2026, 2, 15)),
    (date(2026, 1, 15), 12, date(2027, 1, 15)),
    (date(2026, 1, 15), 24, date(2028, 1, 15)),
    (date(2026, 5, 15), 120, date(2036, 5, 15)),
    (date(2026, 11, 15), 1, date(2026, 12, 15)),  # December is still this year
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
    (date(2026, 12, 31), 2, date(2027, 2, 28)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),  # February has 28 days
    (date(2028, 1, 31), 1, date(2028, 2, 29)),  # ... 29 in a leap year
    (date(2026, 3, 31), 1, date(2026, 4, 30)),  # April has 30
    (date(2026, 1, 30), 1, date(2026, 2, 28)),
    (date(2026, 1, 29), 1, date(2026, 2, 28)),
    (date(2026, 1, 28), 1, date(2026, 2, 28)),
    (date(2026, 1, 31), 2, date(2026, 3, 31)),  # a long month keeps the 31st
    (date(2026, 8, 31), 6, date(2027, 2, 28)),
]


@pytest.mark.parametrize(("day", "months", "later"), MONTHS_LATER, ids=str)
def test_a_period_ends_on_the_same_day_or_the_months_last(day, months, later):
    assert add_months(day, months) == later


START, TERM_END = date(2026, 1, 31), date(2028, 1, 31)
FIRST = [
    (Due(DueKind.DATE, on=date(2027, 6, 30)), date(2027, 6, 30)),
    (Due(DueKind.PERIOD, months=1), date(2026, 2, 28)),
    (Due(DueKind.PERIOD, months=12), date(2027, 1, 31)),
    (AT_END, TERM_END),
    (BEFORE_PUBLICATION, None),  # no date: whenever the researcher would publish
]


@pytest.mark.parametrize(("due", "first"), FIRST, ids=str)
def test_each_kind_first_falls_due_on_its_own_day(due, first):
    assert first_due(due, START, TERM_END) == first


WORDS = [
    (Due(DueKind.DATE, on=date(2027, 6, 30)), "by 2027-06-30", "au plus tard le 2027-06-30"),
    (Due(DueKind.PERIOD, months=6), "every 6 months", "tous les 6 mois"),
    (BEFORE_PUBLICATION, "before publication", "avant la publication"),
    (AT_END, "at the end", "à la fin de l’accès"),
]


@pytest.mark.parametrize(("due", "english_words", "french"), WORDS, ids=str)
def test_each_due_is_said_in_words_in_english_and_french(app, due, english_words, french):
    with app.test_request_context():  # the language is chosen per request
        with speaking("en"):
            assert due.words == english_words
        with speaking("fr"):
            assert due.words == french
