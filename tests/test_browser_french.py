"""The main journey in French, in a real browser (issue 13): a two-Nation request drafted,
screened, reviewed by each Nation's stewards, approved by both representatives and signed
by the three parties, every page read in French (Canada), the agreement issued and signed
in French. The browser asks for French (Accept-Language: fr-CA); one person chooses it
with the switch instead. Every word the test looks for is the catalogue's French for the
English of the other walks, and the test checks it is French, not the English again."""

import re
import shutil
import subprocess
from functools import cache

import pytest
from babel.support import Translations
from playwright.sync_api import expect
from sqlmodel import select
from test_browser import assess_every_criterion

from portal.agreements import editions
from portal.agreements import service as agreements
from portal.db import session_scope
from portal.i18n import TRANSLATIONS_DIR
from portal.notify.models import OutboxMessage
from portal.requests.models import AccessRequest

from browsers import chromium, needs_chromium, on_the_sqlite_pass, sign_in_as, sign_out
from helpers import PASSWORD

pytestmark = [needs_chromium, on_the_sqlite_pass]

CEDAR, HERON = "Red Cedar Nation (fictional)", "Blue Heron Métis (fictional)"


@cache
def _catalogue() -> Translations:
    return Translations.load(str(TRANSLATIONS_DIR), ["fr_CA"])


def fr(english: str, **values) -> str:
    """The French the pages show for ``english`` (a message of the catalogue)."""
    french = _catalogue()._catalog.get(english)
    assert french, f"no French for {english!r}"
    return french % values if values else french


@pytest.fixture
def french_page():
    with chromium() as browser:
        context = browser.new_context(locale="fr-CA")  # Accept-Language: fr-CA
        yield context.new_page()
        context.close()


def is_french(page) -> None:
    assert page.locator("html").get_attribute("lang") == "fr-CA"


def as_person(page, live, email: str, ref: str | None = None) -> None:
    sign_in_as(page, live, email, words=fr)
    is_french(page)
    if ref:
        page.goto(f"{live.url}/requests/{ref}")
        is_french(page)


def test_the_main_journey_in_french(french_page, live_server, flow):
    page, base, app = french_page, live_server.url, live_server.app
    # Someone not signed in reads French from the browser's preference.
    page.goto(f"{base}/sign-in")
    is_french(page)
    expect(page.get_by_role("link", name=fr("Verify a data-use agreement"))).to_be_visible()

    # The researcher drafts (with a mistake, named in French), then submits.
    as_person(page, live_server, "researcher@example.org")
    page.get_by_role("link", name=fr("Start a new request")).click()
    page.get_by_label(fr("Title"), exact=True).fill("Services de santé des jeunes (fictif)")
    page.get_by_label(fr("Purpose"), exact=True).fill("Comprendre l’accès aux services.")
    page.get_by_label("Cedar health").check()
    page.get_by_label("Heron schools").check()
    page.get_by_label(fr("Methods"), exact=True).fill("Statistiques descriptives.")
    page.get_by_label(fr("Benefit to the community"), exact=True).fill("Planification.")
    page.get_by_label(fr("Harm assessment"), exact=True).fill("Petites cellules supprimées.")
    page.get_by_label(fr("Ethics approval"), exact=True).fill("CER 2026-7 (fictif)")
    page.get_by_label(fr("Storage location"), exact=True).fill("Narnia")
    page.get_by_label(fr("Retention (days)"), exact=True).fill("365")
    page.get_by_label(fr("Member %(number)s name", number=1)).fill("Robin Chercheur")
    page.get_by_label(fr("Member %(number)s e-mail address", number=1)).fill("robin@example.org")
    page.get_by_label(fr("Member %(number)s role", number=1)).fill("Responsable")
    page.get_by_label(fr("French"), exact=True).check()  # the agreement's language
    page.get_by_role("button", name=fr("Save and submit")).click()
    # The mistake is named in French, and what was typed is kept.
    page.locator(".field-error, .error-summary").first.wait_for()  # is_visible() would not
    assert "ISO 3166" in page.locator("body").inner_text()
    assert page.get_by_label(fr("Title"), exact=True).input_value().startswith("Services")
    page.get_by_label(fr("Storage location"), exact=True).fill("CA-QC")
    page.get_by_role("button", name=fr("Save and submit")).click()
    page.get_by_text(fr("Submitted. A coordinator screens your request next.")).wait_for()
    ref = re.search(r"/requests/(R-[0-9A-Z-]+)", page.url).group(1)

    # The coordinator's browser asks for English: she chooses French with the switch,
    # which becomes her setting.
    sign_out(page, words=fr)
    english = page.context.browser.new_context(locale="en-CA").new_page()
    sign_in_as(english, live_server, "coordinator@example.org")
    english.get_by_role("button", name="Français").click()
    english.wait_for_load_state()
    assert english.locator("html").get_attribute("lang") == "fr-CA"
    english.goto(f"{base}/requests/{ref}")
    english.get_by_role("link", name=fr("Screen this request")).click()
    english.get_by_label(fr("Accept for the Nations' review")).check()
    english.get_by_role("button", name=fr("Record screening")).click()
    english.locator(".flash").first.wait_for()
    assert english.locator("html").get_attribute("lang") == "fr-CA"
    english.context.close()

    # Each Nation's stewards review, in French.
    for steward, nation in [
        ("s1.cedar@example.org", CEDAR),
        ("s2.cedar@example.org", CEDAR),
        ("s.heron@example.org", HERON),
    ]:
        as_person(page, live_server, steward, ref)
        page.get_by_role("link", name=fr("Review for %(nation)s", nation=nation)).click()
        is_french(page)
        assess_every_criterion(page)
        page.get_by_label(fr("Approve"), exact=True).check()
        page.get_by_role("button", name=fr("Record my review")).click()
        page.get_by_text(fr("Your review is recorded.")).wait_for()

    # Each representative approves for their own Nation.
    for representative, nation in [
        ("rep.cedar@example.org", CEDAR),
        ("rep.heron@example.org", HERON),
    ]:
        as_person(page, live_server, representative, ref)
        page.get_by_role("link", name=fr("Decide for %(nation)s", nation=nation)).click()
        is_french(page)
        page.get_by_label(fr("Approve"), exact=True).check()
        page.get_by_role("button", name=fr("Record %(nation)s's decision", nation=nation)).click()
        page.locator(".flash").first.wait_for()
    expect(page.get_by_text(fr("Awaiting signatures")).first).to_be_visible()

    # The three parties sign the French agreement on the request page.
    for email in ("researcher@example.org", "rep.cedar@example.org", "rep.heron@example.org"):
        as_person(page, live_server, email, ref)
        page.get_by_label(fr("Your password, to confirm it is you")).fill(PASSWORD)
        page.get_by_role("button", name=fr("Sign the agreement")).click()
        page.locator(".flash-info").first.wait_for()
    assert flow.status(ref) == "active"

    # The agreement was issued and signed in French, and the mail went out in French.
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        agreement = editions.current(session, request)
        assert agreement.language == "fr"
        signed = agreements.stored_pdf(session, agreement)
        subjects = session.exec(
            select(OutboxMessage.subject).where(OutboxMessage.recipient == "researcher@example.org")
        ).all()
    assert any(subject.startswith("Votre demande") for subject in subjects), subjects
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=signed, capture_output=True, check=True
        ).stdout.decode()
        assert "Entente d’utilisation des données" in text
        assert "La présente entente est conclue entre :" in text
