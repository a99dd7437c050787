"""What the browser tests share: Debian's Chromium driven by Playwright, a live server
for an app, and signing a person in through the pages (with their two-factor code)."""

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from helpers import PASSWORD, sqlite_pass_only, totp_code

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# Mark a browser test module with this: without Chromium it skips, unless CI requires it.
needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("PORTAL_REQUIRE_BROWSER"),
    reason="Chromium is not installed (apt-get install chromium); CI requires it",
)

# Mark a walk through the pages with this too: what a page shows depends on no database.
on_the_sqlite_pass = sqlite_pass_only("the pages in a browser")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Live:
    """A live server: its base URL and the app it serves (to read a person's TOTP secret)."""

    url: str
    app: object


@contextmanager
def live_server(app) -> Iterator[Live]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PORTAL_URL"] = url  # where the mailed links lead, as in production
    try:
        yield Live(url, app)
    finally:
        server.shutdown()


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_out(page: Page, words: Callable[[str], str] = str) -> None:
    """Sign out through the header's button, and wait for the sign-in page it leads to: a
    page.goto() while the sign-out still posts would cancel it (seen under CI's load)."""
    page.get_by_role("button", name=words("Sign out")).click()
    page.wait_for_url("**/sign-in")


def sign_in_as(
    page: Page,
    live: Live,
    email: str,
    password: str = PASSWORD,
    words: Callable[[str], str] = str,
) -> None:
    """Sign in through the pages; ``words`` gives the page's words for the English ones
    (the French walk passes the catalogue's)."""
    page.goto(f"{live.url}/sign-in")
    if not page.url.endswith("/sign-in"):  # someone is still signed in: it sent us home
        sign_out(page, words)
    page.get_by_label(words("E-mail address")).fill(email)
    page.get_by_label(words("Password"), exact=True).fill(password)
    page.get_by_role("button", name=words("Sign in")).click()
    page.wait_for_url(lambda url: not url.endswith("/sign-in"))
    if "/sign-in/code" in page.url:  # representatives and admins: two-factor sign-in
        page.get_by_label(words("Code")).fill(totp_code(live.app, email))
        page.get_by_role("button", name=words("Sign in")).click()
    page.locator(".who-name").wait_for(state="attached")
    page.wait_for_load_state()  # the header is there; wait for the rest of the page too
