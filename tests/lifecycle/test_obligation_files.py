"""A report on an obligation may carry a file (issue 11, part 1): checked as an output's
(type from the content, size-limited), kept in the shared storage by its SHA-256, and
read only by those who read the report: the researcher and the Nation owed it (404 for
the coordinators and the other Nations). Through the page (multipart, CSRF) and the API."""

import base64
import hashlib
import io
from html import unescape

from sqlmodel import select
from test_obligation_pages import client_of

from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.registry.service import get_nation

from helpers import csrf_token, nation_ids_of

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
CSV = b"year,count\n2024,12\n2025,15\n"


def _post_report(client, path: str, text: str, data: bytes, name: str):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    fields = {"csrf_token": csrf_token(page.text), "text": text}
    if data:
        fields["file"] = (io.BytesIO(data), name)
    return client.post(path, data=fields, content_type="multipart/form-data")


def _events(app, action: str) -> list[dict]:
    with app.app_context(), session_scope() as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return [event.details for event in session.exec(query.order_by(AuditEvent.id))]


def _reported_events(app) -> list[dict]:
    return _events(app, "obligation.reported")


def test_a_report_with_a_file_through_the_page_is_read_by_the_researcher_and_the_nation(app, owed):
    ref = owed.active()
    key = owed.id(ref, "return_or_destroy")
    path = f"/requests/{ref}/obligations/{key}/report"
    researcher = client_of(app, "researcher")
    assert 'enctype="multipart/form-data"' in researcher.get(path).text

    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00"
    wrong = _post_report(researcher, path, "Destroyed; photo attached.", png, "photo.png")
    assert wrong.status_code == 422
    assert "PDF, CSV or plain UTF-8 text" in wrong.text
    assert "Destroyed; photo attached." in wrong.text, "what was typed is kept"
    assert owed.obligations(ref)["return_or_destroy"].state == "open", "nothing was kept"
    app.config["OUTPUT_MAX_BYTES"] = 20
    big = _post_report(researcher, path, "Certificate attached.", PDF, "certificate.pdf")
    assert big.status_code == 422
    assert f"The file is {len(PDF)} bytes; a report's file may be at most 20 bytes." in unescape(
        big.text
    )
    app.config["OUTPUT_MAX_BYTES"] = len(PDF)  # the limit itself is allowed
    done = _post_report(researcher, path, "Certificate attached.", PDF, "certificate.pdf")
    assert done.status_code == 302

    row = owed.obligations(ref)["return_or_destroy"]
    assert row.state == "reported" and row.report_file_digest == hashlib.sha256(PDF).hexdigest()
    (event,) = _reported_events(app)
    assert event["file_sha256"] == row.report_file_digest
    assert event["file_media_type"] == "application/pdf"

    file_path = f"/requests/{ref}/obligations/{key}/file"
    assert file_path in researcher.get(f"/requests/{ref}").text
    for who in ("researcher", "cedar_steward1", "cedar_rep"):
        got = client_of(app, who).get(file_path)
        assert got.status_code == 200, who
        assert got.data == PDF and got.mimetype == "application/pdf"
        assert f"{ref}-obligation-{key}.pdf" in got.headers["Content-Disposition"]
    for who in ("coordinator", "heron_rep", "heron_steward", "kestrel"):
        assert client_of(app, who).get(file_path).status_code == 404, who
        assert file_path not in client_of(app, who).get(f"/requests/{ref}").text, who
    # Each download is in the record of the Nation owed; a refused one is not.
    with app.app_context(), session_scope() as session:
        cedar = get_nation(session, "red-cedar").id
        query = select(AuditEvent).where(AuditEvent.action == "obligation.file_downloaded")
        downloads = [(e.details, nation_ids_of(session, e)) for e in session.exec(query)]
    assert downloads == [({"obligation": key, "sha256": row.report_file_digest}, [cedar])] * 3
    for who in ("coordinator", "heron_rep"):  # the event's details are the Nation's
        timeline = client_of(app, who).get(f"/requests/{ref}/timeline").text
        assert "reported on an obligation" in timeline, who
        assert row.report_file_digest not in timeline, who
    other = owed.id(ref, "community_output_review")  # not reported: no file
    assert researcher.get(f"/requests/{ref}/obligations/{other}/file").status_code == 404


def test_a_report_with_a_file_through_the_api(app, owed, api):
    ref = owed.active()
    key = owed.id(ref, "return_or_destroy")
    body = {"obligation": key, "text": "Counts shared with the council."}
    bad = api.act("researcher", ref, "report_obligation", **body, content_base64="not base64!")
    assert bad.status_code == 422
    named = api.act(
        "researcher", ref, "report_obligation", **body, filename="counts.csv",
        content_base64=base64.b64encode(PDF).decode(),
    )  # fmt: skip
    assert named.status_code == 422, "a .csv name on a PDF"
    assert [e["field"] for e in named.get_json()["errors"]] == ["file"]
    assert owed.obligations(ref)["return_or_destroy"].state == "open"

    done = api.act(
        "researcher", ref, "report_obligation", **body, filename="counts.csv",
        content_base64=base64.b64encode(CSV).decode(),
    )  # fmt: skip
    assert done.status_code == 200
    file_path = f"/requests/{ref}/obligations/{key}/file"

    def listed(who: str) -> dict:
        items = api.get(who, f"/requests/{ref}").get_json()["obligations"]
        return next(item for item in items if item["id"] == key)

    assert listed("researcher")["report_file"] == f"/api/v1{file_path}"
    assert listed("cedar_steward1")["report_file"] == f"/api/v1{file_path}"
    assert listed("heron_rep")["report_file"] is None
    assert listed("coordinator")["report_file"] is None
    got = api.get("cedar_rep", file_path)
    assert got.status_code == 200 and got.data == CSV
    assert len(_events(app, "obligation.file_downloaded")) == 1  # audited through the API too
    assert api.get("coordinator", file_path).status_code == 404
    assert api.get("heron_rep", file_path).status_code == 404
    assert api.get("researcher", f"/requests/{ref}/obligations/x/file").status_code == 404

    # Not met: the researcher reports again without a file; the old one is no longer read.
    comment = "Please add the year 2023."
    owed.assess("cedar_steward1", ref, "return_or_destroy", "not_met", comment=comment)
    again = api.act("researcher", ref, "report_obligation", **body)
    assert again.status_code == 200
    assert listed("researcher")["report_file"] is None
    assert api.get("researcher", file_path).status_code == 404


def test_a_report_file_named_only_by_folders_is_refused(app, owed, api):
    """As every upload (tests/test_upload_names.py): its own name, or refused."""
    ref = owed.active()
    key = owed.id(ref, "return_or_destroy")
    body = {"obligation": key, "text": "Counts.", "content_base64": base64.b64encode(CSV).decode()}
    refused = api.act("researcher", ref, "report_obligation", **body, filename="C:\\Users\\a\\")
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["filename"]
    assert "only folders" in refused.get_json()["detail"]
    assert owed.obligations(ref)["return_or_destroy"].state == "open", "nothing written"
    named = api.act("researcher", ref, "report_obligation", **body, filename="..\\a\\counts.csv")
    assert named.status_code == 200
