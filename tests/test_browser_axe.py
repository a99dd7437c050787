"""Every page state a person reaches, in a real browser, on a wide screen and on a phone.

On each, axe-core (vendored in tests/vendor/axe-core, nothing fetched) checks WCAG 2.1
A and AA: no violation, and no text whose contrast it cannot measure. On the phone
(390 x 844) the page must not scroll sideways, the header stays under HEADER_LIMIT, and
no date or reference breaks across lines.

The pages: for each role and for someone signed out, home with and without queues, a
request in each status, its timeline, the forms and their errors (sent empty), a
Nation's record, the dashboard, the administration and account pages, sign-in and its
errors, verify, and the 403 and 404 pages. One live server and one browser serve the
module; each person signs in once, in a browser context of their own."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

import browsers
from browsers import Live, needs_chromium, sign_in_as
from flows import PEOPLE, Flow
from helpers import ON_POSTGRES, PASSWORD, module_app, seed_nations, seed_people, totp_code

pytestmark = [
    needs_chromium,
    # What axe reads is the pages' markup, which no database changes; the SQLite run of
    # the suite walks every page, and CI stays within its time.
    pytest.mark.skipif(ON_POSTGRES, reason="the pages' markup: checked on the SQLite run"),
]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
RUN_AXE = """() => axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
})"""
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
HEADER_LIMIT = 120  # px: the header's height on a phone, its menu closed
LAYOUT = """() => ({
    width: document.documentElement.scrollWidth,
    header: document.querySelector('.site-header').getBoundingClientRect().height,
    dates: document.querySelectorAll('main time').length,
    broken: [...document.querySelectorAll('main time, main code:not(.digest):not(.token-value)')]
        .filter(element => element.getClientRects().length > 1)
        .map(element => element.textContent),
})"""
NO_ROLES = "newcomer@example.org"


@dataclass(frozen=True)
class Site:
    live: Live
    refs: dict[str, str]  # a request in each status, by status
    browser: Browser


def _requests(flow: Flow) -> dict[str, str]:
    """One two-Nation request in each status a person meets."""
    refs = {"draft": flow.draft(title="A draft (fictional)")}
    refs["screening"] = flow.draft(title="Waiting for screening (fictional)")
    flow.do("researcher", "submit", refs["screening"])
    refs["changes_requested"] = flow.draft(title="Returned for changes (fictional)")
    flow.do("researcher", "submit", refs["changes_requested"])
    flow.do("coordinator", "screen", refs["changes_requested"], outcome="return", comment="Ages?")
    refs["under_review"] = flow.to_review(title="Under review (fictional)")
    refs["reviewed"] = flow.reviewed(title="Reviewed, to decide (fictional)")
    refs["awaiting_signatures"] = flow.approved(
        cedar_conditions=["Aggregate results only"], title="To sign (fictional)"
    )
    refs["active"] = flow.approved(title="Active (fictional)")
    for who, nation in (
        ("researcher", None),
        ("cedar_rep", "red-cedar"),
        ("heron_rep", "blue-heron"),
    ):
        flow.do(who, "sign", refs["active"], nation)
    refs["refused"] = flow.to_review(title="Refused (fictional)")
    flow.do("cedar_rep", "decide", refs["refused"], "red-cedar", outcome="refuse", reason="No.")
    return refs


@pytest.fixture(scope="module")
def site(migrated_template, tmp_path_factory) -> Iterator[Site]:
    with module_app(migrated_template, tmp_path_factory.mktemp("axe")) as app:
        seed_nations(app)
        seed_people(app, [*PEOPLE.values(), (NO_ROLES, [])])
        refs = _requests(Flow(app))
        with browsers.live_server(app) as live, browsers.chromium() as browser:
            yield Site(live, refs, browser)


@dataclass
class Walk:
    """One person's browser tab: each page it visits is checked, and what is wrong kept."""

    site: Site
    page: Page
    phone: bool = False
    problems: list[str] = field(default_factory=list)
    dates_seen: int = 0

    def check(self, label: str) -> None:
        label = f"{label} (phone)" if self.phone else label
        results = self.page.evaluate(RUN_AXE)
        for found in results["violations"]:
            for node in found["nodes"]:
                self.problems.append(
                    f"{label}: {found['id']} ({found['impact']}) at {node['target']}: "
                    f"{found['help']}"
                )
        # Contrast that cannot be measured is not known. (On the phone, cells scrolled out
        # of sight in a table's own scrolling box cannot be measured: the wide screen
        # shows them, in the same colours.)
        for found in [] if self.phone else results["incomplete"]:
            if found["id"] == "color-contrast":
                for node in found["nodes"]:
                    why = node["any"][0]["message"] if node["any"] else found["help"]
                    self.problems.append(
                        f"{label}: contrast unmeasurable at {node['target']}: {why}"
                    )
        if self.phone:
            self._check_layout(label)

    def _check_layout(self, label: str) -> None:
        layout = self.page.evaluate(LAYOUT)
        self.dates_seen += layout["dates"]
        if layout["width"] > PHONE["width"]:
            self.problems.append(f"{label}: scrolls sideways ({layout['width']} px wide)")
        if layout["header"] >= HEADER_LIMIT:
            self.problems.append(f"{label}: header {layout['header']:.0f} px high")
        for text in layout["broken"]:
            self.problems.append(f"{label}: {text!r} breaks across lines")

    def visit(self, path: str, label: str | None = None) -> None:
        self.page.goto(f"{self.site.live.url}{path}")
        self.check(label or path)

    def request(self, status: str, suffix: str = "") -> None:
        self.visit(f"/requests/{self.site.refs[status]}{suffix}", f"{status}{suffix}")

    def submit_empty(self, button: str, label: str) -> None:
        """Send the form of ``button`` as it stands, the browser's checks off: its errors."""
        self.page.evaluate(
            "() => document.querySelectorAll('form').forEach(f => f.noValidate = true)"
        )
        self.page.get_by_role("button", name=button, exact=True).click()
        self.page.wait_for_load_state()
        self.check(f"{label} (sent empty)")


def new_page(site: Site) -> Page:
    # axe is put in every document the tab opens; the CSP would refuse an injected script.
    context = site.browser.new_context(bypass_csp=True, viewport=WIDE)
    context.add_init_script(path=AXE)
    return context.new_page()


# --- what each person visits ------------------------------------------------------------


def signed_out(walk: Walk) -> None:
    walk.visit("/", "welcome")
    walk.visit("/sign-in")
    walk.submit_empty("Sign in", "sign-in")
    walk.page.get_by_label("E-mail address").fill("other@example.org")
    walk.page.get_by_label("Password").fill("not the password")
    walk.page.get_by_role("button", name="Sign in").click()
    walk.page.get_by_text("do not match an active account").wait_for()
    walk.check("sign-in (wrong password)")
    walk.visit("/forgot-password")
    walk.submit_empty("Send the link", "forgot password")
    walk.visit("/verify")
    walk.submit_empty("Verify", "verify")
    walk.visit("/invitations/not-an-invitation-token-0123456789abcdef", "invitation (404)")
    walk.visit("/no-such-page", "404")


def researcher(walk: Walk) -> None:
    walk.visit("/", "home with queues")
    for status in (
        "draft",
        "screening",
        "changes_requested",
        "under_review",
        "awaiting_signatures",
        "active",
        "refused",
    ):
        walk.request(status)
    walk.request("active", "/timeline")
    walk.request("awaiting_signatures")
    walk.submit_empty("Sign the agreement", "sign")
    walk.request("draft", "/edit")
    walk.visit("/requests/new")
    walk.submit_empty("Save and submit", "new request")
    walk.visit("/account")
    walk.submit_empty("Change the password", "account")
    walk.visit("/account/tokens")
    walk.submit_empty("Create a token", "tokens")
    walk.visit("/account/two-factor")
    walk.submit_empty("Turn on two-factor sign-in", "two-factor")
    walk.visit("/dashboard", "dashboard (403)")
    walk.visit("/requests/R-0000-NOPE", "request (404)")


def without_queues(walk: Walk) -> None:
    walk.visit("/", "home without queues")


def coordinator(walk: Walk) -> None:
    walk.visit("/", "home with queues")
    walk.visit("/dashboard")
    for status in ("screening", "under_review", "awaiting_signatures", "refused"):
        walk.request(status)
    walk.request("under_review", "/timeline")
    walk.request("screening", "/screen")
    walk.submit_empty("Record screening", "screen")


def steward(walk: Walk) -> None:
    walk.visit("/", "home with queues")
    for status in ("under_review", "active", "refused"):
        walk.request(status)
    walk.request("under_review", "/review/red-cedar")
    walk.submit_empty("Record my review", "review")
    walk.visit("/nations/red-cedar/record")
    walk.visit("/nations/blue-heron/record", "another Nation's record (403)")


def representative(walk: Walk) -> None:
    walk.visit("/", "home with queues")
    for status in ("reviewed", "awaiting_signatures", "active", "refused"):
        walk.request(status)
    walk.request("reviewed", "/decide/red-cedar")
    walk.submit_empty("Record Red Cedar Nation (fictional)'s decision", "decide")
    walk.request("active", "/revoke/red-cedar")
    walk.submit_empty("Revoke for Red Cedar Nation (fictional)", "revoke")
    walk.visit("/nations/red-cedar/record")
    walk.visit("/nations/red-cedar/profile")
    walk.visit("/nations/red-cedar/invitations")
    walk.submit_empty("Send the invitation", "the Nation's invitations")
    walk.visit("/account")


def administrator(walk: Walk) -> None:
    walk.visit("/", "home")
    walk.visit("/admin/people")
    walk.visit("/admin/people/1", "a person")
    walk.visit("/admin/invitations")
    walk.submit_empty("Send the invitation", "invitations")
    walk.visit("/admin/nations")
    walk.submit_empty("Register the Nation", "nations")
    walk.visit("/admin/datasets")
    walk.submit_empty("Register the dataset", "datasets")
    walk.visit("/admin/datasets/cedar-health", "a dataset")
    walk.page.get_by_label("Title").fill("")
    walk.submit_empty("Save the dataset", "a dataset")
    walk.visit(f"/requests/{walk.site.refs['under_review']}", "a request (404 to admins)")


WALKS: dict[str, tuple[str | None, Callable[[Walk], None]]] = {
    "signed out": (None, signed_out),
    "researcher": ("researcher@example.org", researcher),
    "researcher without requests": ("other@example.org", without_queues),
    "someone without roles": (NO_ROLES, without_queues),
    "coordinator": ("coordinator@example.org", coordinator),
    "steward": ("s3.cedar@example.org", steward),
    "representative": ("rep.cedar@example.org", representative),
    "administrator": ("admin@example.org", administrator),
}


@pytest.mark.parametrize("who", WALKS)
def test_every_page_passes_axe_wide_and_on_a_phone(site, who):
    email, visit_pages = WALKS[who]
    page = new_page(site)
    if email:
        sign_in_as(page, site.live, email)
    walk = Walk(site, page)
    visit_pages(walk)
    page.set_viewport_size(PHONE)
    walk.phone = True
    visit_pages(walk)
    page.context.close()
    assert not walk.problems, "found:\n" + "\n".join(walk.problems)
    if who in ("researcher", "coordinator", "representative"):
        assert walk.dates_seen, "the phone's walk met dates to check"


def test_the_two_factor_sign_in_pages(site):
    walk = Walk(site, new_page(site))
    walk.visit("/sign-in")
    walk.page.get_by_label("E-mail address").fill("rep.heron@example.org")
    walk.page.get_by_label("Password").fill(PASSWORD)
    walk.page.get_by_role("button", name="Sign in").click()
    walk.page.wait_for_url("**/sign-in/code")
    walk.check("sign-in code")
    walk.submit_empty("Sign in", "sign-in code")
    walk.page.get_by_label("Code").fill(totp_code(site.live.app, "rep.heron@example.org"))
    walk.page.get_by_role("button", name="Sign in").click()
    walk.page.locator(".who-name").wait_for(state="attached")
    walk.page.wait_for_load_state()
    walk.check("home after the code")
    assert not walk.problems, "found:\n" + "\n".join(walk.problems)


def test_the_request_pages_in_french_on_a_phone(site):
    """Found in a browser: on a phone, in French, a Nation's part awaiting its decision
    ("En attente de la décision de son représentant") did not wrap, and the request page
    scrolled sideways. The French is longer than the English: each state, in French."""
    from test_browser_french import fr

    context = site.browser.new_context(bypass_csp=True, viewport=PHONE, locale="fr-CA")
    context.add_init_script(path=AXE)
    walk = Walk(site, context.new_page(), phone=True)
    sign_in_as(walk.page, site.live, "s.heron@example.org", words=fr)
    for status in ("under_review", "reviewed", "awaiting_signatures", "active", "refused"):
        walk.request(status)
    context.close()
    assert not walk.problems, "found:\n" + "\n".join(walk.problems)
