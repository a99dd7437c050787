"""In a real browser: a representative proposes a portal-wide rule change for its
Nation, a majority of the member Nations' representatives approve it and it is shown
applied; another proposal is stopped by one Nation's objection."""

from playwright.sync_api import expect

from browsers import needs_chromium, on_the_sqlite_pass, sign_in_as, sign_out
from governing import add_members, rep

pytestmark = [needs_chromium, on_the_sqlite_pass]


def answer(page, live, email: str, path: str, choice: str, comment: str = "") -> None:
    sign_in_as(page, live, email)
    page.goto(f"{live.url}{path}")
    page.get_by_label(choice).check()
    page.get_by_label("Comment (optional)").fill(comment)
    page.get_by_role("button", name="Give your Nation's answer").click()
    page.get_by_text("Your Nation's answer is recorded.").wait_for()


def test_a_change_applied_by_a_majority_and_another_stopped_by_an_objection(
    page, live_server, app, nations, make_user
):
    add_members(app, make_user, 3)
    sign_in_as(page, live_server, rep("red-cedar"))
    page.get_by_role("link", name="Rule changes").click()
    page.get_by_role("link", name="Propose a change").click()
    page.get_by_label("What the change is, in a few words").fill("Researchers stop withdrawing")
    page.get_by_label("Policy lines to remove").fill("p, researcher, *, withdraw")
    page.get_by_role("button", name="Propose the change").click()
    page.get_by_text("Your proposal is made").wait_for()
    path = page.url.removeprefix(live_server.url)
    expect(page.get_by_text("A researcher may withdraw requests")).to_be_visible()
    expect(page.get_by_text("2 of 3 member Nations must approve")).to_be_visible()
    page.get_by_label("Approve the change").check()
    page.get_by_role("button", name="Give your Nation's answer").click()
    page.get_by_text("The proposal is open.").wait_for()
    sign_out(page)

    answer(page, live_server, rep("blue-heron"), path, "Approve the change", "Agreed")
    expect(page.get_by_text("The proposal is applied.")).to_be_visible()
    expect(page.get_by_text("In force as rules version 2.")).to_be_visible()
    expect(page.get_by_role("cell", name="Agreed")).to_be_visible()

    # A second proposal: one objection stops it.
    page.get_by_role("link", name="Rule changes").click()
    page.get_by_role("link", name="Propose a change").click()
    page.get_by_label("What the change is, in a few words").fill("Ethics approval before review")
    page.get_by_label("Policy lines to add").fill("p2, *, review, ethics_approval_given")
    page.get_by_role("button", name="Propose the change").click()
    page.get_by_text("Your proposal is made").wait_for()
    second = page.url.removeprefix(live_server.url)
    sign_out(page)
    answer(
        page, live_server, rep("green-kestrel"), second, "Object to it", "Our stewards judge that"
    )
    expect(page.get_by_text("The proposal is rejected.")).to_be_visible()
    page.get_by_role("link", name="Rule changes").click()
    page.wait_for_url("**/rules/proposals")  # the proposal's page has a table too
    rows = page.locator("table tbody tr")  # both closed: the newest first
    assert "Ethics approval before review" in rows.nth(0).inner_text()
    assert "Rejected" in rows.nth(0).inner_text()
    assert "Applied" in rows.nth(1).inner_text()
