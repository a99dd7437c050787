"""A person's walk through the pages in a real browser (Playwright driving Debian's
Chromium): a two-Nation request from draft, through a return for changes, to both
Nations' decisions, signed in as each role in turn."""

import re

from playwright.sync_api import expect

from browsers import needs_chromium, on_the_sqlite_pass, sign_in_as, sign_out
from helpers import PASSWORD

pytestmark = [needs_chromium, on_the_sqlite_pass]


def open_request(page, base, ref):
    page.goto(f"{base}/requests/{ref}")


def test_a_two_nation_request_through_the_pages(page, live_server, flow):
    base = live_server.url
    # The researcher drafts with a mistake, fixes it, and submits.
    sign_in_as(page, live_server, "researcher@example.org")
    page.get_by_role("link", name="Start a new request").click()
    page.get_by_label("Title").fill("Youth mental health services (fictional)")
    page.get_by_label("Purpose").fill("Understand access to services.")
    page.get_by_label("Cedar health").check()
    page.get_by_label("Heron schools").check()
    page.get_by_label("Methods").fill("Descriptive statistics.")
    page.get_by_label("Benefit to the community").fill("Evidence for planning.")
    page.get_by_label("Harm assessment").fill("Small cells suppressed.")
    page.get_by_label("Ethics approval").fill("REB 2026-7 (fictional)")
    page.get_by_label("Storage location").fill("Narnia")
    page.get_by_label("Retention (days)").fill("365")
    page.get_by_label("Member 1 name").fill("Robin Researcher")
    page.get_by_label("Member 1 e-mail address").fill("robin@example.org")
    page.get_by_label("Member 1 role").fill("Lead")
    page.get_by_role("button", name="Save and submit").click()
    page.get_by_text("is not an ISO 3166").first.wait_for()  # is_visible() would not wait
    assert page.get_by_label("Title").input_value() == "Youth mental health services (fictional)"
    page.get_by_label("Storage location").fill("CA-ON")
    page.get_by_role("button", name="Save and submit").click()
    page.get_by_text("Submitted. A coordinator screens your request next.").wait_for()
    ref = re.search(r"/requests/(R-[0-9A-Z-]+)", page.url).group(1)
    sign_out(page)

    # The coordinator returns it for clarification.
    sign_in_as(page, live_server, "coordinator@example.org")
    expect(page.locator("#queue-screen").get_by_text("Youth mental health")).to_be_visible()
    assert "waiting" in page.locator("#queue-screen li").first.inner_text()
    open_request(page, base, ref)
    assert "You screen this request next" in page.locator(".next").inner_text()
    page.get_by_role("link", name="Screen this request").click()
    page.get_by_label("Return to the researcher").check()
    page.get_by_role("button", name="Record screening").click()
    assert "Tell the researcher what to change" in page.locator("#comment-error").inner_text()
    page.get_by_label("Comment to the researcher").fill("Which age groups?")
    page.get_by_role("button", name="Record screening").click()
    page.get_by_text("Changes requested").first.wait_for()
    sign_out(page)

    # The researcher revises and resubmits; the coordinator accepts.
    sign_in_as(page, live_server, "researcher@example.org")
    expect(page.locator("#queue-yours").get_by_text("Youth mental health")).to_be_visible()
    open_request(page, base, ref)
    # The coordinator's question stands where the researcher acts: the page and the form.
    assert "Which age groups?" in page.locator(".reasons").inner_text()
    assert "You revise the request" in page.locator(".next").inner_text()
    page.get_by_role("link", name="Edit and submit").click()
    page.wait_for_url("**/edit")  # .reasons is on the page being left, too
    assert "Which age groups?" in page.locator(".reasons").inner_text()
    page.get_by_label("Purpose").fill("Understand access to services for ages 12 to 24.")
    page.get_by_role("button", name="Save and submit").click()
    page.get_by_text("Submitted.").wait_for()
    sign_out(page)
    sign_in_as(page, live_server, "coordinator@example.org")
    open_request(page, base, ref)
    page.get_by_role("link", name="Screen this request").click()
    page.get_by_label("Accept for the Nations' review").check()
    page.get_by_role("button", name="Record screening").click()
    page.get_by_text("Waiting for 2 more Red Cedar Nation (fictional) steward reviews.").wait_for()
    sign_out(page)

    # Stewards of each Nation review; they see what changed since revision 1.
    for steward, nation in [
        ("s1.cedar@example.org", "Red Cedar Nation (fictional)"),
        ("s2.cedar@example.org", "Red Cedar Nation (fictional)"),
        ("s.heron@example.org", "Blue Heron Métis (fictional)"),
    ]:
        sign_in_as(page, live_server, steward)
        assert f"for {nation}" in page.locator("#queue-review li").first.inner_text()
        open_request(page, base, ref)
        assert f"You review this request for {nation} next." in page.locator(".next").inner_text()
        page.get_by_role("link", name=f"Review for {nation}").click()
        page.wait_for_url(re.compile(r"/review/[^/]+$"))
        expect(page.get_by_text("Changed since revision 1")).to_be_visible()
        assess_every_criterion(page)
        page.get_by_label("Approve", exact=True).check()
        page.get_by_role("button", name="Record my review").click()
        page.get_by_text("Your review is recorded.").wait_for()
        sign_out(page)

    # Each representative decides for their own Nation only.
    sign_in_as(page, live_server, "rep.cedar@example.org")
    open_request(page, base, ref)
    assert page.get_by_role("link", name="Decide for Blue Heron").count() == 0
    page.get_by_role("link", name="Decide for Red Cedar Nation (fictional)").click()
    page.get_by_label("Approve", exact=True).check()
    page.get_by_label("Aggregate results only, small cells suppressed").check()
    page.get_by_label("Other conditions, one per line").fill(
        "Share findings with Chief and Council first."
    )
    page.get_by_role("button", name="Record Red Cedar Nation (fictional)'s decision").click()
    page.get_by_text(
        "Waiting for Blue Heron Métis (fictional)'s representative to decide."
    ).wait_for()
    expect(page.get_by_text("Share findings with Chief and Council first.")).to_be_visible()
    sign_out(page)

    sign_in_as(page, live_server, "rep.heron@example.org")
    expect(page.locator("#queue-decide").get_by_text("Youth mental health")).to_be_visible()
    open_request(page, base, ref)
    assert "You decide for Blue Heron" in page.locator(".next").inner_text()
    # Red Cedar's decision and conditions are its own: Blue Heron reads its status only.
    assert page.get_by_text("Share findings with Chief and Council first.").count() == 0
    page.get_by_role("link", name="Decide for Blue Heron Métis (fictional)").click()
    page.get_by_label("Approve", exact=True).check()
    page.get_by_role("button", name="Record Blue Heron Métis (fictional)'s decision").click()
    page.get_by_text("Every Nation approved").wait_for()
    timeline = page.locator("ol.timeline").inner_text()
    for step in (
        "Submitted",
        "Returned to the researcher",
        "Accepted by screening",
        "Steward review recorded",
        "Approved by a Nation",
    ):
        assert step in timeline
    expect(page.get_by_text("Awaiting signatures").first).to_be_visible()

    sign_out(page)

    # Every party signs on the request page; the last signature makes access active.
    for email in ("researcher@example.org", "rep.cedar@example.org", "rep.heron@example.org"):
        sign_in_as(page, live_server, email)
        expect(page.locator("#queue-sign").get_by_text("Youth mental health")).to_be_visible()
        open_request(page, base, ref)
        assert "You sign the agreement" in page.locator(".next").inner_text()
        page.get_by_label("Your password, to confirm it is you").fill(PASSWORD)
        page.get_by_role("button", name="Sign the agreement").click()
        page.locator(".flash-info", has_text="Signed.").wait_for()
        sign_out(page)
    assert flow.status(ref) == "active"

    # Red Cedar revokes from the page: a reason, a confirmation, and access ends at once.
    sign_in_as(page, live_server, "rep.cedar@example.org")
    open_request(page, base, ref)
    page.get_by_role("link", name="Revoke for Red Cedar Nation (fictional)").click()
    page.get_by_label("Reason (the researcher reads it)").fill("Data shared beyond the team.")
    page.get_by_role("button", name="Revoke for Red Cedar Nation (fictional)").click()
    # The error summary links to the box left unticked.
    page.get_by_role("link", name="Confirm that access ends at once.").click()
    assert page.evaluate("document.activeElement.id") == "confirm"
    assert flow.status(ref) == "active", "nothing happens without the confirmation"
    page.get_by_label("I understand that access ends at once").check()
    page.get_by_role("button", name="Revoke for Red Cedar Nation (fictional)").click()
    page.get_by_text("access has ended").wait_for()
    assert flow.status(ref) == "revoked"
    expect(page.get_by_text("Revoked: access ended at once.")).to_be_visible()
    sign_out(page)
    # The researcher reads the Nation's reason on the request's page.
    sign_in_as(page, live_server, "researcher@example.org")
    open_request(page, base, ref)
    assert "Data shared beyond the team." in page.locator(".reasons").inner_text()


def test_a_representative_invites_a_steward_who_reviews(page, live_server, flow):
    base = live_server.url
    ref = flow.to_review()
    # Red Cedar's representative invites a new steward from the Nation's own page.
    sign_in_as(page, live_server, "rep.cedar@example.org")
    page.get_by_role("link", name="Invitations: Red Cedar Nation (fictional)").click()
    page.get_by_label("E-mail address of the person to invite").fill("nia.new@example.org")
    page.get_by_label("Role", exact=True).select_option("steward")
    page.get_by_role("button", name="Send the invitation").click()
    page.get_by_text("Invitation sent").wait_for()
    link = page.get_by_label("Invitation link").input_value()
    assert link.startswith(f"{base}/invitations/")
    expect(page.get_by_role("cell", name="nia.new@example.org", exact=True)).to_be_visible()
    sign_out(page)

    # The invitee opens the link, chooses a name and password, and signs in.
    page.goto(link)
    page.get_by_text("invites nia.new@example.org").wait_for()
    page.get_by_label("Your name").fill("Nia Newsteward")
    page.get_by_label("Choose a password").fill("short")
    page.get_by_label("The password again").fill("short")
    page.get_by_role("button", name="Create my login and accept").click()
    page.locator("p.error", has_text="at least 10 characters").wait_for()  # not the hint
    assert page.get_by_label("Your name").input_value() == "Nia Newsteward"
    page.get_by_label("Choose a password").fill("a steward's own passphrase")
    page.get_by_label("The password again").fill("a steward's own passphrase")
    page.get_by_role("button", name="Create my login and accept").click()
    page.get_by_text("Your login is ready.").wait_for()
    assert page.get_by_label("E-mail address").input_value() == "nia.new@example.org"
    page.get_by_label("Password").fill("a steward's own passphrase")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").wait_for()
    expect(
        page.locator(".role-badge", has_text="Steward · Red Cedar Nation (fictional)")
    ).to_be_visible()

    # The link worked once.
    page.goto(link)
    page.get_by_text("used already").wait_for()

    # The new steward reviews the request for Red Cedar.
    open_request(page, base, ref)
    page.get_by_role("link", name="Review for Red Cedar Nation (fictional)").click()
    assess_every_criterion(page)
    page.get_by_label("Approve", exact=True).check()
    page.get_by_role("button", name="Record my review").click()
    page.get_by_text("Your review is recorded.").wait_for()


def assess_every_criterion(page, assessment: str = "met") -> None:
    """The review form has no default answer: each criterion is chosen. A click on the
    "Review for …" link returns once the navigation is committed, before the form has
    loaded, and all() does not wait: wait for the page first."""
    page.wait_for_url(re.compile(r"/review/[^/]+$"))
    for select in page.locator("select[name^=criterion_]").all():
        select.select_option(assessment)


def mailed_link(app, email: str, path: str) -> str:
    """The newest link to ``path`` mailed to ``email`` (read from the outbox)."""
    from sqlmodel import select

    from portal.db import session_scope
    from portal.notify.models import OutboxMessage

    with app.app_context(), session_scope() as session:
        bodies = session.exec(
            select(OutboxMessage.body)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())
        ).all()
    return next(m[0] for body in bodies if (m := re.search(rf"http\S*{path}\S+", body)))


def test_an_invited_representative_sets_a_password_and_two_factor(page, live_server, flow):
    import pyotp

    from portal.db import session_scope
    from portal.registry import service as registry

    base, app = live_server.url, live_server.app
    with app.app_context(), session_scope() as session:
        registry.create_nation(session, "green-kestrel", "Green Kestrel (fictional)", "OCAP")
    # An administrator appoints the Nation's first representative.
    sign_in_as(page, live_server, "admin@example.org")
    page.get_by_role("link", name="Invitations", exact=True).click()
    page.get_by_label("E-mail address of the person to invite").fill("kay@example.org")
    page.get_by_label("Role", exact=True).select_option("representative")
    page.get_by_label("Nation (for a representative)").select_option("green-kestrel")
    page.get_by_role("button", name="Send the invitation").click()
    link = page.get_by_label("Invitation link").input_value()
    sign_out(page)

    # The invitee sets a password, signs in, and must set up two-factor sign-in first.
    page.goto(link)
    page.get_by_label("Your name").fill("Kay Kestrelrep")
    page.get_by_label("Choose a password").fill("a representative's passphrase")
    page.get_by_label("The password again").fill("a representative's passphrase")
    page.get_by_role("button", name="Create my login and accept").click()
    page.get_by_text("Your login is ready.").wait_for()
    page.get_by_label("Password").fill("a representative's passphrase")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Set up two-factor sign-in").wait_for()
    page.goto(f"{base}/nations/green-kestrel/invitations")
    page.get_by_role("heading", name="Set up two-factor sign-in").wait_for()  # nothing else
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.get_by_role("heading", name="Two-factor sign-in is on").wait_for()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have kept them: go on").click()
    # Wait for the page the link opens: is_visible() alone reads the page still leaving.
    page.locator(".role-badge", has_text="Representative · Green Kestrel").wait_for()
    sign_out(page)

    # Next time the password alone is not enough.
    sign_in_as(page, live_server, "kay@example.org", "a representative's passphrase")
    assert "/sign-in" not in page.url


def test_a_forgotten_password_is_reset_and_the_old_session_ends(page, live_server, flow):
    base, app = live_server.url, live_server.app
    sign_in_as(page, live_server, "researcher@example.org")
    old_session = page.context.cookies()
    sign_out(page)
    page.context.add_cookies(old_session)  # as if the old session were still on a device
    page.goto(f"{base}/")
    assert page.get_by_text("Signed in as").count() == 0, "signing out ended it on the server"

    page.goto(f"{base}/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_url("**/forgot-password")  # the sign-in page has an address field too
    page.get_by_label("E-mail address").fill("researcher@example.org")
    page.get_by_role("button", name="Send the link").click()
    page.get_by_text("a link to set a new password is on its way").wait_for()
    sign_in_as(page, live_server, "researcher@example.org")  # still the old password
    signed_in_before = page.context.cookies()

    other = page.context.browser.new_context().new_page()
    other.goto(mailed_link(app, "researcher@example.org", "/reset-password/"))
    other.get_by_label("New password", exact=True).fill("a brand new passphrase")
    other.get_by_label("The new password again").fill("a brand new passphrase")
    other.get_by_role("button", name="Set the new password").click()
    other.wait_for_url(lambda url: "/reset-password/" not in url)

    page.context.clear_cookies()
    page.context.add_cookies(signed_in_before)
    page.goto(f"{base}/")
    assert page.get_by_text("Signed in as").count() == 0, "the reset ended the other session"
    sign_in_as(page, live_server, "researcher@example.org", "a brand new passphrase")
