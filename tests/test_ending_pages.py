"""The end of access on the pages (issue 11, follow-up): the researcher ends access early
and attests the data's destruction on forms of their own, the signed PDF downloads from
the request page, each Nation answers on its page, and the last acknowledgement closes
the request. A refused form keeps what was typed and writes nothing; a step not offered
now is refused on its page."""

import io
import re
from datetime import date

import sqlalchemy as sa
from babel.dates import format_date
from pypdf import PdfReader

from portal.audit.models import AuditChainHead
from portal.db import session_scope
from portal.models import metadata

from flows import PEOPLE
from helpers import PASSWORD, csrf_token, labels_on_lists, sign_in

ATTEST = {
    "what": "Every extract of cedar-health and heron-schools (sentinel W7)",
    "method": "Secure erase of the project drive",
    "done_on": str(date.today()),
    "done_by": "Robin Researcher (fictional)",
}


def client_of(app, who: str):
    client = app.test_client()
    assert sign_in(client, PEOPLE[who][0]).status_code == 302
    return client


def post(client, path: str, **fields):
    token = csrf_token(client.get(path).get_data(as_text=True))
    return client.post(path, data={**fields, "csrf_token": token})


def snapshot(app) -> dict:
    """Row counts of every table and the audit chain's head."""
    with app.app_context(), session_scope() as session:
        counts = {
            table.name: session.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in metadata.sorted_tables
        }
        head = session.get(AuditChainHead, 1)
        return {**counts, "head": head.last_hash if head else None}


def test_from_active_to_closed_on_the_pages(app, flow):
    ref = flow.active()
    researcher = client_of(app, "researcher")
    page = researcher.get(f"/requests/{ref}").get_data(as_text=True)
    assert f"/requests/{ref}/end/close" in page and "/end/attest" not in page
    # Not offered yet: attesting before access ended is refused on its page.
    assert researcher.get(f"/requests/{ref}/end/attest").status_code == 409
    cedar = client_of(app, "cedar_rep")
    assert cedar.get(f"/requests/{ref}/end/close").status_code == 403  # the researcher's

    done = post(
        researcher, f"/requests/{ref}/end/close", reason="Project finished early", confirm="y"
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("#end-h")
    assert flow.status(ref) == "active"
    page = researcher.get(f"/requests/{ref}").get_data(as_text=True)
    assert "Access ended: destruction attestation due" in page
    # The contract's state stays active until the Nations acknowledge; the status says
    # access ended (found in a browser: the page read "Active" alone).
    today = format_date(date.today(), "medium", locale="en_CA")  # as the pages write a day
    assert f"Active</span> · access ended on {today}" in page
    assert f"/requests/{ref}/end/attest" in page and "/end/close" not in page
    assert researcher.get(f"/requests/{ref}/end/close").status_code == 409  # once

    done = post(researcher, f"/requests/{ref}/end/attest", **ATTEST, password=PASSWORD)
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    pdf = researcher.get(f"/requests/{ref}/attestation.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Destruction attestation" in text and "sentinel W7" in text
    assert researcher.get(f"/requests/{ref}/end/attest").status_code == 409  # with the Nations

    for who, slug in (("cedar_rep", "red-cedar"), ("heron_steward", "blue-heron")):
        client = client_of(app, who)
        page = client.get(f"/requests/{ref}").get_data(as_text=True)
        assert f"/requests/{ref}/end/answer/{slug}" in page, who
        assert f"/requests/{ref}/attestation.pdf" in page, who
        form = client.get(f"/requests/{ref}/end/answer/{slug}").get_data(as_text=True)
        assert labels_on_lists(form) == [] and "</legend>" in form, "the choice is named"
        other = "blue-heron" if slug == "red-cedar" else "red-cedar"
        assert client.get(f"/requests/{ref}/end/answer/{other}").status_code == 403
        done = post(client, f"/requests/{ref}/end/answer/{slug}", outcome="acknowledged")
        assert done.status_code == 302, done.get_data(as_text=True)[:2000]
        assert client.get(f"/requests/{ref}/end/answer/{slug}").status_code == 409
    assert flow.status(ref) == "closed"
    page = researcher.get(f"/requests/{ref}").get_data(as_text=True)
    assert "Closed: the data" in page and "/end/" not in page


def test_a_refused_form_keeps_what_was_typed_and_writes_nothing(app, flow):
    ref = flow.active()
    researcher = client_of(app, "researcher")
    post(researcher, f"/requests/{ref}/end/close", reason="Done", confirm="y")
    before = snapshot(app)
    typed = {**ATTEST, "done_on": "next tuesday"}
    refused = post(researcher, f"/requests/{ref}/end/attest", **typed, password="wrong one")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Give the date it was done as YYYY-MM-DD." in text
    assert "The password is not right; nothing was signed." in text
    assert 'value="next tuesday"' in text and "sentinel W7" in text
    assert 'value="wrong one"' not in text  # a password is never sent back
    assert snapshot(app) == before

    post(researcher, f"/requests/{ref}/end/attest", **ATTEST, password=PASSWORD)
    cedar = client_of(app, "cedar_rep")
    before = snapshot(app)
    refused = post(cedar, f"/requests/{ref}/end/answer/red-cedar", outcome="more_needed")
    assert refused.status_code == 422
    assert "Say what more the Nation needs." in refused.get_data(as_text=True)
    assert snapshot(app) == before


def queued(client, key: str) -> str:
    """The text of the home page's queue ``key`` (empty if the person has none)."""
    home = client.get("/").get_data(as_text=True)
    found = re.search(rf'id="queue-{key}">(.*?)</div>', home, re.DOTALL)
    return found.group(1) if found else ""


def test_the_attestation_and_each_answer_wait_in_their_home_queues(app, flow):
    """Found in a browser: the researcher's attestation and the Nations' answers to it
    were only mailed; "Waiting for you" never listed them."""
    who = ("researcher", "cedar_rep", "heron_rep", "coordinator")
    researcher, cedar, heron, coordinator = (client_of(app, person) for person in who)
    ref = flow.ended()
    assert ref in queued(researcher, "attest") and ref not in queued(cedar, "answer")
    flow.do("researcher", "attest_destruction", ref)
    assert ref not in queued(researcher, "attest")
    assert ref in queued(cedar, "answer") and ref in queued(heron, "answer")
    assert ref not in queued(coordinator, "answer"), "the Nations' to answer"
    flow.do("cedar_rep", "acknowledge_destruction", ref, "red-cedar")
    assert ref not in queued(cedar, "answer") and ref in queued(heron, "answer")


def test_ending_access_early_asks_the_same_confirmation_as_revoking(app, flow):
    """Found in a browser: one click on "End access now" ended access for every dataset
    at once; revoking asks "I understand...", this did not. Now it asks the same box,
    and an unticked one is refused on its field, with what was typed kept and nothing
    written. The API's close (body {reason}) is unchanged."""
    from portal.reviews.forms import RevokeForm

    ref = flow.active()
    researcher = client_of(app, "researcher")
    path = f"/requests/{ref}/end/close"
    page = researcher.get(path).get_data(as_text=True)
    with app.test_request_context():
        label, required = str(RevokeForm().confirm.label.text), "Confirm that access ends at once."
    assert label in page and 'name="confirm"' in page
    before = snapshot(app)
    unticked = post(researcher, path, reason="Project finished early")
    text = unticked.get_data(as_text=True)
    assert unticked.status_code == 422 and required in text
    assert 'href="#confirm"' in text and 'aria-invalid="true"' in text
    assert "Project finished early" in text, "what was typed is kept"
    assert snapshot(app) == before and "Access ended" not in text
    done = post(researcher, path, reason="Project finished early", confirm="y")
    assert done.status_code == 302 and done.headers["Location"].endswith("#end-h")
    page = researcher.get(f"/requests/{ref}").get_data(as_text=True)
    assert "Access ended: destruction attestation due" in page


def test_the_api_closes_without_a_confirmation(app, flow):
    from apis import Api

    ref = flow.active()
    closed = Api(app).act("researcher", ref, "close", reason="Project finished early")
    assert closed.status_code == 200, closed.get_data(as_text=True)


def test_the_answer_page_shows_what_was_attested_and_no_link_to_itself(app, flow):
    """Found in a browser: a Nation answering the destruction attestation read only a
    link to its PDF, not what the researcher attested, and a button leading to the page
    it was on. The page shows the latest attestation's words to whoever answers."""
    from flows import DEFAULTS

    said = DEFAULTS["attest_destruction"]
    ref = flow.attested()
    path = f"/requests/{ref}/end/answer/red-cedar"
    page = client_of(app, "cedar_rep").get(path).get_data(as_text=True)
    assert "What was destroyed or returned" in page
    for key in ("what", "method", "done_by"):
        assert said[key] in page, key
    assert f'href="{path}"' not in page, "no button to the page itself"
    refused = client_of(app, "heron_rep").get(path)  # not theirs to answer: nothing shown
    assert refused.status_code == 403 and said["what"] not in refused.get_data(as_text=True)
