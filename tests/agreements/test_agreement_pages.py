"""The pages: the request page's agreement section, downloading (audited, for the
parties, the request's Nations and coordinators only), signing in the browser, and
the verification page anyone may use."""

import hashlib
import io

import pytest
from sqlmodel import select
from weasyprint import HTML

from portal.audit.models import AuditEvent
from portal.db import session_scope

from agreement_kit import SIGNERS, alter_stored, flip, pdf_text, request_of, stored_pdf
from flows import PEOPLE
from helpers import PASSWORD, csrf_token, sign_in


def signed_in(app, who: str):
    client = app.test_client()
    assert sign_in(client, PEOPLE[who][0]).status_code == 302
    return client


def downloads(app, ref: str) -> list[dict]:
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.request_id == request.id, AuditEvent.action == "agreement.downloaded")
            .order_by(AuditEvent.id)
        ).all()
        return [{"actor": e.actor_label, **e.details} for e in events]


MAY_DOWNLOAD = ["researcher", "cedar_rep", "heron_rep", "cedar_steward1", "coordinator"]
MAY_NOT = ["other_researcher", "admin"]  # they may not even know the request exists


def test_who_may_download(app, flow, approved):
    for who in MAY_NOT:
        assert signed_in(app, who).get(f"/requests/{approved}/agreement.pdf").status_code == 404
    assert downloads(app, approved) == []
    for who in MAY_DOWNLOAD:  # the parties, the request's Nations, coordinators
        response = signed_in(app, who).get(f"/requests/{approved}/agreement.pdf")
        assert response.status_code == 200, who
        assert response.mimetype == "application/pdf"
        assert response.data == stored_pdf(app, approved)
        assert "Data-use agreement" in pdf_text(response.data)
    digest = hashlib.sha256(stored_pdf(app, approved)).hexdigest()
    assert downloads(app, approved) == [
        {
            "actor": PEOPLE[who][0],
            "edition": 1,
            "version": 0,
            "sha256": digest,
            "language": "en",
            "kind": "signed document",
        }
        for who in MAY_DOWNLOAD
    ]


def test_anonymous_download_goes_to_sign_in(app, approved):
    response = app.test_client().get(f"/requests/{approved}/agreement.pdf")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert downloads(app, approved) == []


def test_no_agreement_yet_is_not_found(app, flow):
    ref = flow.reviewed()
    assert signed_in(app, "researcher").get(f"/requests/{ref}/agreement.pdf").status_code == 404


def sign_through_the_page(client, ref: str, password: str = PASSWORD):
    page = client.get(f"/requests/{ref}").get_data(as_text=True)
    assert "Sign the agreement" in page
    nation = page.split('name="nation" value="', 1)[1].split('"', 1)[0]
    return client.post(
        f"/requests/{ref}/sign",
        data={"csrf_token": csrf_token(page), "password": password, "nation": nation},
    )


def test_each_party_signs_on_the_request_page(app, approved):
    researcher = signed_in(app, "researcher")
    wrong = sign_through_the_page(researcher, approved, "not the password")
    assert wrong.status_code == 422
    assert "The password is not right; nothing was signed." in wrong.get_data(as_text=True)
    for who, _nation in SIGNERS:
        client = researcher if who == "researcher" else signed_in(app, who)
        response = sign_through_the_page(client, approved)
        assert response.status_code == 302, response.get_data(as_text=True)
    page = researcher.get(f"/requests/{approved}").get_data(as_text=True)
    assert 'Status: <span class="status status-active">Active</span>' in page
    assert "Sign the agreement" not in page
    assert page.count("UTC</time></td>") >= 3  # a signing time for each party
    assert "Not signed yet" not in page


def test_a_steward_sees_the_agreement_but_no_sign_form(app, approved):
    steward = signed_in(app, "cedar_steward1")
    page = steward.get(f"/requests/{approved}").get_data(as_text=True)
    assert "Data-use agreement" in page and "agreement.pdf" in page
    assert "Sign the agreement" not in page
    response = steward.post(
        f"/requests/{approved}/sign",
        data={"csrf_token": csrf_token(page), "password": PASSWORD, "nation": ""},
    )
    assert response.status_code == 403


def test_signing_without_the_csrf_token_is_refused(app, approved):
    client = signed_in(app, "researcher")
    response = client.post(f"/requests/{approved}/sign", data={"password": PASSWORD})
    assert response.status_code == 400
    with app.app_context(), session_scope() as session:
        assert request_of(session, approved).status.value == "awaiting_signatures"


def verify(client, data: bytes, name: str = "agreement.pdf"):
    page = client.get("/verify").get_data(as_text=True)
    return client.post(
        "/verify",
        data={"csrf_token": csrf_token(page), "document": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_the_verification_page_recognises_a_signed_agreement(app, flow, signed):
    client = app.test_client()  # nobody signed in
    assert client.get("/verify").status_code == 200
    response = verify(client, signed.pdf)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Issued by this portal." in page
    after_three = "as it stood after 3 signatures"
    assert f"the agreement of request <code>{signed.ref}</code> {after_three}" in page
    assert 'status-active">active</strong>' in page
    assert "Signatures (3 of 3 parties)" in page
    for name in ("researcher", "rep.cedar", "rep.heron"):
        assert f'<th scope="row">{name}</th>' in page
    # A Nation named once (found in a browser: "Representative of X (X)").
    cedar = "Red Cedar Nation (fictional)"
    assert f"<td>Representative of {cedar}</td>" in page and f"({cedar})" not in page
    assert page.count("Valid: made with a key this portal certified") == 3
    assert page.count("UTC</time>") == 3

    flow.do("heron_rep", "revoke", signed.ref, "blue-heron", reason="Breach")
    page = verify(client, signed.pdf).get_data(as_text=True)
    assert "Issued by this portal." in page
    assert 'status-revoked">revoked</strong>' in page


def test_the_verification_page_spots_changes(app, signed):
    client = app.test_client()
    appended = signed.pdf + b"\n%% a line added after signing\n"
    page = verify(client, appended).get_data(as_text=True)
    assert "Changed after signing." in page
    # A byte of the agreement as issued (before the first signature's update, whose
    # signature padding a changed byte could leave the first signature valid).
    issued_end = signed.pdf.index(b"%%EOF")
    page = verify(client, flip(signed.pdf, issued_end // 2)).get_data(as_text=True)
    assert "Issued by this portal." not in page
    assert "Valid: made with a key this portal certified" not in page


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"not a pdf at all", ["Not a PDF this portal can read."]),
        (
            HTML(string="<p>An agreement, supposedly</p>").write_pdf(),
            ["Not issued by this portal", "The file carries no digital signature."],
        ),
    ],
)
def test_the_verification_page_on_other_files(app, data, expected):
    response = verify(app.test_client(), data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert [text for text in expected if text not in page] == []


def test_the_verification_page_needs_a_file(app):
    client = app.test_client()
    page = client.get("/verify").get_data(as_text=True)
    response = client.post("/verify", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 422
    assert "Choose a PDF file." in response.get_data(as_text=True)


def test_an_altered_stored_file_gets_a_clear_page_not_a_500(app, approved, caplog):
    digest = hashlib.sha256(stored_pdf(app, approved)).hexdigest()
    alter_stored(app, digest)
    response = signed_in(app, "researcher").get(f"/requests/{approved}/agreement.pdf")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "fails its integrity check" in page and "an administrator has been told" in page
    assert digest in caplog.text, "the log names the file for the administrator"
    assert downloads(app, approved) == [], "nothing is recorded for a refused download"


def test_agreements_are_never_cached_nor_written_to_the_instance_folder(
    app, approved, instance_path
):
    response = signed_in(app, "researcher").get(f"/requests/{approved}/agreement.pdf")
    assert response.headers.get("Cache-Control") == "no-store"
    assert not (instance_path / "agreements").exists()  # the database holds them


def test_the_download_says_what_the_file_is(app, approved):
    """Before anyone signs it is an agreement to read; then partly signed; then signed
    by every party. It is never called signed before it is."""
    researcher = signed_in(app, "researcher")

    def link() -> str:
        page = researcher.get(f"/requests/{approved}").get_data(as_text=True)
        return page.split('class="downloads"')[1].split("</li>")[0]

    assert "the English agreement to read before signing (PDF)" in link()
    assert "signed" not in link().replace("before signing", "")
    for count, (who, _nation) in enumerate(SIGNERS, start=1):
        client = researcher if who == "researcher" else signed_in(app, who)
        assert sign_through_the_page(client, approved).status_code == 302
        if count < len(SIGNERS):
            assert f"signed by {count} of {len(SIGNERS)} parties so far (PDF)" in link()
    assert "the English agreement, signed by every party (PDF)" in link()
