"""After the signature, in a real browser (issue 11's walk-through): a two-Nation request
is signed on its page and becomes active; an output is refused, then a second one cleared;
an obligation is reported and met; a renewal adds a third Nation's dataset, and that
Nation reviews, decides and signs the new edition with the others; the worker expires
access once the clock passes the term's end; the researcher attests the data's
destruction and each Nation acknowledges it, which closes the request. Each person acts
on their own pages, signed in as themself."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from playwright.sync_api import expect
from rq import SimpleWorker
from sqlmodel import select
from test_browser import assess_every_criterion

from portal.agreements import service as agreements
from portal.db import session_scope
from portal.jobs import worker
from portal.registry import service as registry
from portal.requests.models import AccessRequest

from browsers import needs_chromium, sign_in_as, sign_out
from helpers import ON_POSTGRES, PASSWORD, emptied_redis, redis_test_url

pytestmark = [
    needs_chromium,
    # Each step's workflow runs on PostgreSQL in its own tests (tests/lifecycle,
    # test_output_pages, test_ending_pages, tests/jobs); the walk is the pages' and runs
    # on the SQLite pass, which keeps CI within its time.
    pytest.mark.skipif(ON_POSTGRES, reason="the pages' walk: run on the SQLite pass"),
]

CEDAR, HERON = "Red Cedar Nation (fictional)", "Blue Heron Métis (fictional)"
KESTREL = "Green Kestrel (fictional)"
KESTREL_STEWARD, KESTREL_REP = "s.kestrel@example.org", "rep.kestrel@example.org"
REPRESENTATIVES = (
    ("rep.cedar@example.org", CEDAR),
    ("rep.heron@example.org", HERON),
    (KESTREL_REP, KESTREL),
)
YEARLY = "Report to the council every year (fictional)."
TABLE = b"Region,Girls,Boys,Total\nNorth,12,3,15\nSouth,20,25,45\nTotal,32,28,60\n"
SAFE_TABLE = b"Region,Children\nNorth,15\nSouth,45\nTotal,60\n"
REDIS_URL = redis_test_url(12)  # this module's own database numbers (12, 13)


@pytest.fixture
def redis_connection():
    with emptied_redis(REDIS_URL) as connection:
        yield connection


def as_person(page, live, email: str, ref: str) -> None:
    """Sign in as ``email`` (signing out whoever was signed in) and open the request."""
    if page.get_by_role("button", name="Sign out").count():
        sign_out(page)
    sign_in_as(page, live, email)
    page.goto(f"{live.url}/requests/{ref}")


def term_end(app, ref: str):
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        return agreements.current(session, request).term_end


def submit_output(page, title: str, name: str, content: bytes) -> None:
    # Offered under "What you can do" and again where the outputs are listed: the first.
    page.get_by_role("link", name="Submit an output for review").first.click()
    page.get_by_label("Title of the output").fill(title)
    page.get_by_label("Where it will be published").fill("A fictional journal")
    page.get_by_label("The file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content}
    )
    page.get_by_role("button", name="Submit for review").click()
    page.locator(".flash-info", has_text="The output is submitted.").wait_for()
    # The request page lists it under its outputs (and beside the obligation it meets).
    outputs = page.locator("section", has=page.locator("#outputs-h"))
    outputs.get_by_role("link", name=title).click()
    # The click returns before the output's page has loaded: read it only once it has.
    page.wait_for_url(re.compile(r"/outputs/\d+$"))


def sign_on_page(page) -> None:
    page.get_by_label("Your password, to confirm it is you").fill(PASSWORD)
    page.get_by_role("button", name="Sign the agreement").click()
    page.locator(".flash-info", has_text="Signed.").wait_for()


def review_output(page, recommendation: str, comment: str) -> None:
    page.get_by_label(recommendation, exact=True).check()
    page.get_by_label("Comment (your Nation's own people read it)").fill(comment)
    page.get_by_role("button", name="Record the review").click()
    page.locator(".flash-info", has_text="Recorded.").wait_for()


def flow_output_status(page, live, url: str) -> str:
    """The output's status as its page says it (read by whoever is signed in)."""
    page.goto(url)
    return page.locator("main p", has_text="Status:").locator("strong").inner_text()


@pytest.fixture
def kestrel(app, make_user) -> None:
    """A third fictional Nation, its dataset, steward and representative."""
    with app.app_context(), session_scope() as session:
        registry.create_nation(session, "green-kestrel", KESTREL, "OCAP")
        registry.create_dataset(
            session, "kestrel-lands", "Kestrel lands", "Lands (fictional)", ["green-kestrel"]
        )
    make_user(KESTREL_STEWARD, ("steward", "green-kestrel"))
    make_user(KESTREL_REP, ("representative", "green-kestrel"))


def test_after_the_signature_through_the_pages(page, live_server, flow, kestrel, redis_connection):
    live, app = live_server, live_server.app
    ref = flow.reviewed(retention_days=730)  # two years: the yearly report is owed twice
    flow.do(
        "cedar_rep", "decide", ref, "red-cedar",
        conditions=["community_output_review", YEARLY], dues={YEARLY: "every 12 months"},
    )  # fmt: skip
    flow.do("heron_rep", "decide", ref, "blue-heron")

    # Activation: every party signs on the request's page.
    for email in ("researcher@example.org", "rep.cedar@example.org", "rep.heron@example.org"):
        as_person(page, live, email, ref)
        sign_on_page(page)
    assert flow.status(ref) == "active"

    # An output Red Cedar asked to review: its stewards and representative refuse it.
    as_person(page, live, "researcher@example.org", ref)
    submit_output(page, "Table 1 by sex (fictional)", "table.csv", TABLE)
    assert "North × Boys: 3" in page.content(), "the small cell is flagged for reviewers"
    output_page = page.url
    for steward in ("s1.cedar@example.org", "s2.cedar@example.org"):
        as_person(page, live, steward, ref)
        page.goto(output_page)
        review_output(page, "Refuse publication", "The boys of North are identifiable.")
    as_person(page, live, "rep.cedar@example.org", ref)
    page.goto(output_page)
    page.get_by_label("Refuse publication", exact=True).check()
    page.get_by_label("Reasons (the researcher reads them)").fill("Suppress the cells under 5.")
    page.get_by_role("button", name="Record the decision").click()
    page.locator(".flash-info", has_text="Recorded.").wait_for()
    # Blue Heron reviews outputs too (its profile asks), but Red Cedar's deliberation is
    # Red Cedar's own: Heron's steward reads its status, never its stewards' comments.
    as_person(page, live, "s.heron@example.org", ref)
    page.goto(output_page)
    assert "Publication refused" in page.locator("main").inner_text()
    assert page.get_by_text("The boys of North are identifiable.").count() == 0
    # The researcher reads the refusal's reasons, never the stewards' comments.
    as_person(page, live, "researcher@example.org", ref)
    page.goto(output_page)
    assert "Suppress the cells under 5." in page.content()
    assert "The boys of North are identifiable." not in page.content()
    assert "Publication refused" in page.locator("main").inner_text()

    # The revised output: cleared only once each Nation that asked has approved.
    page.goto(f"{live.url}/requests/{ref}")
    submit_output(page, "Table 1 without sex (fictional)", "table2.csv", SAFE_TABLE)
    second = page.url
    for steward, rep in (
        (("s1.cedar@example.org", "s2.cedar@example.org"), "rep.cedar@example.org"),
        (("s.heron@example.org",), "rep.heron@example.org"),
    ):
        assert flow_output_status(page, live, second) != "Cleared for publication"
        for email in steward:
            as_person(page, live, email, ref)
            page.goto(second)
            review_output(page, "Approve publication", "Nothing identifiable now.")
        as_person(page, live, rep, ref)
        page.goto(second)
        page.get_by_label("Approve publication", exact=True).check()
        page.get_by_role("button", name="Record the decision").click()
        page.locator(".flash-info", has_text="Recorded.").wait_for()
    as_person(page, live, "researcher@example.org", ref)
    outputs = page.locator("section", has=page.locator("#outputs-h")).inner_text()
    assert "Table 1 by sex (fictional) (A fictional journal): Publication refused" in outputs
    assert "Table 1 without sex (fictional) (A fictional journal): Cleared" in outputs

    # The yearly report to Red Cedar's council: reported by the researcher, met. It is
    # taken from 30 days before it falls due: the year is brought to its last days.
    obligations = page.locator("section", has=page.get_by_role("heading", name="Obligations"))
    yearly = obligations.locator("li", has_text=YEARLY)
    assert "Its report is taken from" in yearly.inner_text()
    assert yearly.get_by_role("link", name="Report on it").count() == 0
    _year_ends_soon(app, ref)
    page.reload()
    obligations.locator("li", has_text=YEARLY).get_by_role("link", name="Report on it").click()
    page.get_by_label("What was done to meet it").fill("Presented to council (fictional).")
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_url(f"{live.url}/requests/{ref}*")
    as_person(page, live, "s1.cedar@example.org", ref)
    page.get_by_role("link", name=f"Assess it for {CEDAR}").click()
    page.get_by_text("Presented to council (fictional).").wait_for()  # the page the link opens
    page.get_by_label("Met", exact=True).check()
    page.get_by_role("button", name="Record the assessment").click()
    page.wait_for_url(f"{live.url}/requests/{ref}*")
    section = page.locator("section", has=page.get_by_role("heading", name="Obligations"))
    # A yearly report met opens the next year's.
    assert (
        "The last report was assessed as met on"
        in section.locator("li", has_text=YEARLY).inner_text()
    )

    # A renewal that adds Green Kestrel's dataset: every Nation concerned reviews and
    # decides afresh, Green Kestrel joins, and every party signs the new edition.
    before = term_end(app, ref)
    as_person(page, live, "researcher@example.org", ref)
    page.get_by_text("Renew this request").click()
    page.locator("#renew-reason").fill("Two more years, with Green Kestrel's land records.")
    page.get_by_role("button", name="Renew", exact=True).click()
    page.get_by_text("The renewal is open: access continues").wait_for()  # on the edit page
    page.get_by_label("Kestrel lands").check()
    page.get_by_role("button", name="Save and submit").click()
    page.get_by_text("Submitted.").wait_for()
    assert flow.status(ref) == "active", "access goes on while the Nations decide"
    as_person(page, live, "coordinator@example.org", ref)
    page.get_by_role("link", name="Screen this request").click()
    page.get_by_label("Accept for the Nations' review").check()
    page.get_by_role("button", name="Record screening").click()
    page.locator(".flash-info").first.wait_for()
    for steward, nation in (
        ("s1.cedar@example.org", CEDAR),
        ("s2.cedar@example.org", CEDAR),
        ("s.heron@example.org", HERON),
        (KESTREL_STEWARD, KESTREL),
    ):
        as_person(page, live, steward, ref)
        page.get_by_role("link", name=f"Review for {nation}").click()
        assess_every_criterion(page)
        page.get_by_label("Approve", exact=True).check()
        page.get_by_role("button", name="Record my review").click()
        page.get_by_text("Your review is recorded.").wait_for()
    for rep, nation in REPRESENTATIVES:
        as_person(page, live, rep, ref)
        page.get_by_role("link", name=f"Decide for {nation}").click()
        page.get_by_label("Approve", exact=True).check()
        page.get_by_role("button", name=f"Record {nation}'s decision").click()
        page.locator(".flash-info").first.wait_for()
    for email in ("researcher@example.org", *(rep for rep, _ in REPRESENTATIVES)):
        as_person(page, live, email, ref)
        # The parties to edition 1 read it beside edition 2; Green Kestrel, edition 2 alone.
        assert "edition 2" in page.locator("section.agreement").inner_text().lower()
        sign_on_page(page)
    assert flow.status(ref) == "active"
    assert term_end(app, ref) >= before, "a renewal's term runs afresh from its issue"
    latest = page.locator("ol.timeline").inner_text()
    assert "New agreement edition in force: the previous one superseded" in latest
    editions = page.locator("ul.editions").inner_text()
    assert "Edition 1" in editions and "Superseded" in editions
    assert "Edition 2" in editions and "in force" in editions

    # Expiry by the worker, the clock moved forward: the day before the end, then the end.
    end = term_end(app, ref)
    worker.bind(app)
    for day, expected in ((end - timedelta(days=1), "active"), (end, "expired")):
        now = datetime.combine(day, time(12), tzinfo=UTC)
        worker.enqueue(redis_connection, "expire_agreements", now=now)
        SimpleWorker([worker.QUEUE_NAME], connection=redis_connection).work(burst=True)
        assert flow.status(ref) == expected

    # The researcher attests the destruction; each Nation acknowledges; closed.
    as_person(page, live, "researcher@example.org", ref)
    expect(page.get_by_text("Expired").first).to_be_visible()
    # Offered first under "What you can do", and again where the end of access is told.
    page.get_by_role("link", name="Attest the data's destruction").first.click()
    page.get_by_label("What was destroyed or returned").fill("Every extract and table.")
    page.get_by_label("How it was destroyed or returned").fill("Secure erase of the drive.")
    page.get_by_label("Done on").fill(str(date.today()))  # the pages keep real time
    page.get_by_label("Done by").fill("Robin Researcher (fictional)")
    page.get_by_label("Your password (it signs the attestation)").fill(PASSWORD)
    page.get_by_role("button", name="Sign the attestation").click()
    page.wait_for_url(f"{live.url}/requests/{ref}*")
    for email, nation in (
        ("rep.cedar@example.org", CEDAR),
        ("s.heron@example.org", HERON),
        (KESTREL_REP, KESTREL),
    ):
        as_person(page, live, email, ref)
        page.get_by_role("link", name=f"Answer the attestation for {nation}").first.click()
        page.get_by_label("Acknowledged", exact=False).check()
        page.get_by_role("button", name="Record the answer").click()
        page.wait_for_url(f"{live.url}/requests/{ref}*")
    assert flow.status(ref) == "closed"
    latest = page.locator("ol.timeline").inner_text()  # the request page's latest events
    assert "Expired at the end of the agreement's term" in latest
    assert "Closed: every Nation acknowledged the destruction attestation" in latest


def _year_ends_soon(app, ref: str) -> None:
    """The yearly obligation's period ends in ten days: its report's window is open."""
    from portal.lifecycle.models import Obligation

    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        query = select(Obligation).where(
            Obligation.request_id == request.id, Obligation.text == YEARLY
        )
        row = session.exec(query).one()
        row.next_due = date.today() + timedelta(days=10)
        session.add(row)
