"""A French page writes a day as the others do, with the `day` filter ("30 juin 2027"),
never as ISO (2027-06-30): a walk in a browser found ISO days on the request page (the
term's end, a yearly report's window), among the reasons a request went back, and on a
Nation's record (an overdue obligation, the day of a decision). A moment keeps its
time in UTC ("2026-12-05 14:03 UTC") everywhere: that is not a day, and is left alone."""

import re
from datetime import date, timedelta

from babel.dates import format_date
from sqlmodel import select

from portal.agreements import editions
from portal.db import session_scope
from portal.requests.models import AccessRequest

from helpers import sign_in
from obligated import YEARLY, Obligated

# A day alone, not the date of a moment written with its time.
ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b(?!\s*\d{1,2}:\d{2})")


def iso_days(html: str) -> list[str]:
    """The ISO days a reader sees: the text, not a tag's attributes (<time datetime>)."""
    return ISO_DAY.findall(re.sub(r"<[^>]+>", " ", html))


def in_french(app, email: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CA,fr;q=0.9"
    assert sign_in(client, email).status_code == 302
    return client


def french_day(day: date) -> str:
    return format_date(day, "medium", locale="fr_CA")


def term_end(app, ref: str) -> date:
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        return editions.current(session, request).term_end


def test_the_french_pages_write_days_as_days(app, flow, make_user):
    owed = Obligated(app, flow, make_user)
    ref = owed.active()
    returned = flow.draft(title="Returned (fictional)")
    flow.do("researcher", "submit", returned)
    flow.do("coordinator", "screen", returned, outcome="return", comment="Which ages?")

    researcher = in_french(app, "researcher@example.org")
    page = researcher.get(f"/requests/{ref}").text
    assert '<html lang="fr-CA">' in page
    assert not iso_days(page), iso_days(page)
    assert french_day(term_end(app, ref)) in page  # the term's end, in the next steps
    opens = owed.obligations(ref)[YEARLY].next_due - timedelta(days=30)
    assert french_day(opens) in page  # the yearly report's window
    reasons = researcher.get(f"/requests/{returned}").text
    assert "Which ages?" in reasons and not iso_days(reasons), iso_days(reasons)

    owed.set_due(ref, YEARLY, date.today() - timedelta(days=3))
    record = in_french(app, "rep.cedar@example.org").get("/nations/red-cedar/record").text
    assert french_day(date.today() - timedelta(days=3)) in record  # overdue since
    assert f"<code>{ref}</code> :" in record  # and French sets a space before a colon
    assert not iso_days(record), iso_days(record)
