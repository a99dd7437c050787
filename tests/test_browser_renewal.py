"""A renewal's obligations in a real browser: the representative's decide page starts from
the conditions in force and is approved as it stands; once the new edition is in force, the
researcher's request page lists what is owed now and folds away what was superseded, with
nothing to do on it."""

import pytest

from browsers import needs_chromium, on_the_sqlite_pass, sign_in_as
from helpers import in_thread
from obligated import YEARLY, Obligated

SIGNERS = (("researcher", None), ("cedar_rep", "red-cedar"), ("heron_rep", "blue-heron"))

pytestmark = [needs_chromium, on_the_sqlite_pass]


@pytest.fixture
def renewing(app, flow, make_user) -> str:
    """An active request with conditions, renewed and reviewed afresh: Red Cedar decides."""
    ref = Obligated(app, flow, make_user).active()
    flow.do("researcher", "renew", ref)
    for who, action, nation in (
        ("researcher", "submit", None),
        ("coordinator", "screen", None),
        ("cedar_steward1", "review", "red-cedar"),
        ("cedar_steward2", "review", "red-cedar"),
        ("heron_steward", "review", "blue-heron"),
    ):
        flow.do(who, action, ref, nation)
    return ref


def test_a_renewal_decided_as_the_page_starts_then_the_old_obligations_fold_away(
    renewing, page, live_server, flow
):
    ref = renewing
    sign_in_as(page, live_server, "rep.cedar@example.org")
    page.goto(f"{live_server.url}/requests/{ref}/decide/red-cedar")
    page.get_by_text("These conditions replace those of your Nation's approval").wait_for()
    ticked = page.locator("input[name=standard_conditions]:checked")
    assert sorted(ticked.evaluate_all("boxes => boxes.map(b => b.value)")) == [
        "community_output_review",
        "return_or_destroy",
    ]
    own_words = page.locator("textarea[name=custom_conditions]").input_value()
    assert own_words == f"{YEARLY} | due: every 12 months"
    page.get_by_role("radio", name="Approve").check()
    page.get_by_role("button", name="Record Red Cedar Nation (fictional)'s decision").click()
    page.locator(".flash-info", has_text="decision is recorded").wait_for()
    outside_the_browser(flow.do, "heron_rep", "decide", ref, "blue-heron", conditions=[])
    for person, nation in SIGNERS:  # signing runs asyncio (pyHanko): not on Playwright's loop
        outside_the_browser(flow.do, person, "sign", ref, nation)

    sign_in_as(page, live_server, "researcher@example.org")
    page.goto(f"{live_server.url}/requests/{ref}")
    section = page.locator("section", has=page.locator("#obligations-h"))
    owed_now = section.locator(":scope > ul > li")
    assert owed_now.count() == 3  # Red Cedar's three, made afresh; Blue Heron asked none now
    # Return or destroy only: the yearly report is taken from 30 days before its year
    # ends, and the review of outputs is met output by output, not by a report.
    assert section.get_by_role("link", name="Report on it").count() == 1
    folded = section.locator("details")
    assert folded.locator("summary").inner_text() == (
        "5 obligations superseded by a later edition's conditions"
    )
    assert not folded.locator("li").first.is_visible()  # folded until opened
    folded.locator("summary").click()
    assert folded.locator("li").count() == 5 and folded.locator("li").first.is_visible()
    assert folded.get_by_text("Superseded by edition 2 of the agreement").count() == 5
    assert folded.get_by_role("link").count() == 0  # nothing to do on them


def outside_the_browser(step, *args, **kwargs):
    thread, outcome = in_thread(lambda: step(*args, **kwargs))
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
