"""A Nation's record as CSV and PDF: what they hold, read back; CSV formula injection;
each download an audit event of the Nation; the PDF fetching only our static files."""

import csv
import io
import re
from datetime import timedelta

import pytest
import weasyprint
from babel.dates import format_date
from pypdf import PdfReader
from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.db import session_scope, utcnow
from portal.pdf import STATIC_DIR, StaticFilesOnly, html_to_pdf
from portal.registry.service import get_nation
from portal.transparency.exports import safe_cell

from flows import PEOPLE
from helpers import csrf_token, nation_ids_of, sign_in

CEDAR, HERON = "red-cedar", "blue-heron"


@pytest.fixture
def decided(flow):
    """Two requests in Red Cedar's record: one every Nation approved (each with its own
    conditions), one Red Cedar refused; and one only Blue Heron's."""
    approved = flow.reviewed(title="Wellbeing study (fictional)", retention_days=365)
    flow.do(
        "cedar_rep",
        "decide",
        approved,
        CEDAR,
        conditions=["aggregate_only", "Cedar elders see outputs first; then the council"],
    )
    flow.do("heron_rep", "decide", approved, HERON, conditions=["Heron-only condition"])
    refused = flow.to_review(title='=HYPERLINK("http://evil.example") (fictional)')
    flow.do("cedar_rep", "decide", refused, CEDAR, outcome="refuse", reason="-Not a benefit")
    heron_only = flow.draft(title="Heron only (fictional)", datasets=["heron-schools"])
    flow.do("researcher", "submit", heron_only)
    return {"approved": approved, "refused": refused, "heron_only": heron_only}


def read_csv(response) -> list[dict[str, str]]:
    text = response.get_data().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_holds_each_request_of_the_nation_and_only_its_own_part(client, decided):
    sign_in(client, PEOPLE["cedar_steward1"][0])
    response = client.get(f"/nations/{CEDAR}/record.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8", "charset once"
    assert re.match(
        r'attachment; filename="red-cedar-record-\d{4}-\d{2}-\d{2}\.csv"',
        response.headers["Content-Disposition"],
    )
    rows = {row["reference"]: row for row in read_csv(response)}
    assert set(rows) == {decided["approved"], decided["refused"]}
    approved = rows[decided["approved"]]
    today = utcnow().date()
    assert approved["request status"] == "Awaiting signatures"
    assert approved["agreement"] == "Awaiting signatures"
    assert approved["decision"] == "Approved"
    assert approved["the Nation's review"] == "approved"
    assert approved["decided by"] == "rep.cedar"
    assert (
        approved["reviewed by"] == "s1.cedar (approve, revision 1); s2.cedar (approve, revision 1)"
    )
    # One condition a line: a condition's own ";" never splits it.
    assert approved["conditions"].splitlines() == [
        "Only aggregate results are released; cells below 5 are suppressed.",
        "Cedar elders see outputs first; then the council",
    ]
    assert (approved["start"], approved["expiry"]) == (
        str(today),
        str(today + timedelta(days=365)),
    )
    assert approved["datasets"] == "Cedar health", "Red Cedar's own datasets only"
    refused = rows[decided["refused"]]
    assert (refused["decision"], refused["agreement"], refused["start"]) == ("Refused", "", "")
    assert refused["the Nation's review"] == "refused"
    assert "Heron-only condition" not in response.get_data(as_text=True)


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(client, decided):
    sign_in(client, PEOPLE["cedar_rep"][0])
    rows = {row["reference"]: row for row in read_csv(client.get(f"/nations/{CEDAR}/record.csv"))}
    refused = rows[decided["refused"]]
    assert refused["title"] == '\'=HYPERLINK("http://evil.example") (fictional)'
    assert refused["reason"] == "'-Not a benefit"


@pytest.mark.parametrize(
    "value,expected",
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        ("Métis", "Métis"),
        ("", ""),
        (None, ""),
        (365, "365"),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_the_pdf_holds_the_requests_and_their_conditions(client, decided):
    sign_in(client, PEOPLE["cedar_rep"][0])
    response = client.get(f"/nations/{CEDAR}/record.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_data()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "Record of Red Cedar Nation (fictional)" in text
    for ref in (decided["approved"], decided["refused"]):
        assert ref in text
    assert "Wellbeing study (fictional)" in text
    assert "Cedar elders see outputs first" in text
    assert "Only aggregate results are released" in text
    assert "Awaiting signatures" in text and "Not a benefit" in text
    assert "Heron-only condition" not in text and decided["heron_only"] not in text
    assert PdfReader(io.BytesIO(data)).metadata.title == "Record of Red Cedar Nation (fictional)"


def test_the_pdf_made_in_french_reads_french(client, decided):
    sign_in(client, PEOPLE["cedar_rep"][0])
    data = client.get(
        f"/nations/{CEDAR}/record.pdf", headers={"Accept-Language": "fr-CA,fr;q=0.9"}
    ).get_data()
    text = pdf_text(data)
    assert "Registre de Red Cedar Nation (fictional)" in text
    assert "Chercheuse" in text and "Stockage et conservation" in text and "Examinée par" in text
    assert "2 demandes." in text and "Refusée" in text
    assert "Researcher" not in text and "Reviewed by" not in text
    # What people wrote stays as they wrote it.
    assert "Wellbeing study (fictional)" in text and "Not a benefit" in text
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.title == "Registre de Red Cedar Nation (fictional)"
    assert reader.trailer["/Root"]["/Lang"] == "fr-CA"


def test_each_download_is_an_event_in_the_nations_own_record(app, client, decided):
    sign_in(client, PEOPLE["cedar_steward2"][0])
    client.get(f"/nations/{CEDAR}/record.csv")
    client.get(f"/nations/{CEDAR}/record.pdf")
    with app.app_context(), session_scope() as session:
        cedar = get_nation(session, CEDAR)
        events = list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.action == "nation.record_downloaded")
                .order_by(AuditEvent.id)
            )
        )
        assert [(e.actor_label, e.details) for e in events] == [
            (PEOPLE["cedar_steward2"][0], {"format": "csv", "requests": 2}),
            (PEOPLE["cedar_steward2"][0], {"format": "pdf", "requests": 2}),
        ]
        assert all(nation_ids_of(session, e) == [cedar.id] for e in events)
    page = client.get(f"/nations/{CEDAR}/record").get_data(as_text=True)
    assert page.count("The Nation&#39;s record downloaded") == 2
    assert "format: pdf" in page and "format: csv" in page
    other = app.test_client()
    sign_in(other, PEOPLE["heron_rep"][0])
    heron_page = other.get(f"/nations/{HERON}/record").get_data(as_text=True)
    assert "record downloaded" not in heron_page, "Red Cedar's downloads are Red Cedar's"


ALLOWED = (STATIC_DIR / "portal.css").as_uri()
REFUSED = [
    "file:///etc/passwd",
    STATIC_DIR.as_uri() + "/../pdf.py",
    STATIC_DIR.as_uri() + "/%2e%2e/pdf.py",
    STATIC_DIR.as_uri() + "/",
    STATIC_DIR.as_uri() + "/no-such-file.css",
    "file://evil.example" + str(STATIC_DIR / "portal.css"),
    "http://127.0.0.1/static/portal.css",
    "https://example.org/x.png",
    "data:text/css,body{}",
    "ftp://example.org/x",
]


@pytest.mark.parametrize("url", REFUSED)
def test_the_pdf_fetcher_refuses_anything_but_our_static_files(url):
    fetcher = StaticFilesOnly()
    assert fetcher.static_file(url) is None
    with pytest.raises(ValueError, match="not one of the portal's static files"):
        fetcher.fetch(url)


def test_the_pdf_fetcher_serves_our_static_files():
    response = StaticFilesOnly().fetch(ALLOWED)
    assert response.content_type == "text/css"
    assert response.read() == (STATIC_DIR / "portal.css").read_bytes()


def test_a_refused_resource_leaves_no_trace_in_the_pdf(tmp_path):
    secret = tmp_path / "secret.css"
    secret.write_text("h1::after { content: 'LEAKED-SECRET'; }")
    html = (
        '<html lang="en"><head><title>t</title>'
        f'<link rel="stylesheet" href="{secret.as_uri()}"></head>'
        "<body><h1>Heading</h1></body></html>"
    )
    text = pdf_text(html_to_pdf(html))
    assert "Heading" in text and "LEAKED-SECRET" not in text
    # The same document through WeasyPrint's own fetcher does read the file.
    assert "LEAKED-SECRET" in pdf_text(weasyprint.HTML(string=html).write_pdf())


def test_the_pdf_is_letter_sized_like_the_agreement_and_shows_a_term_only_where_one_is(
    client, decided
):
    sign_in(client, PEOPLE["cedar_rep"][0])
    data = client.get(f"/nations/{CEDAR}/record.pdf").get_data()
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792), "Letter"
    text = pdf_text(data)
    assert "— to —" not in text, "a refused request has no term"
    today = format_date(utcnow().date(), "medium", locale="en_CA")  # as the pages write a day
    assert f"Term {today} to" in text, "the approved one has"


def revoked(flow) -> str:
    ref = flow.approved(title="Revoked study (fictional)")
    for who in ("researcher", "cedar_rep", "heron_rep"):
        flow.do(who, "sign", ref)
    flow.do("cedar_rep", "revoke", ref, CEDAR, reason="Shared beyond the team (the Cedar reason)")
    return ref


def test_refusal_and_revocation_reasons_are_in_the_nations_own_record(client, flow, decided):
    """The record is the Nation's own: its reasons are its own, on the page and in both
    downloads. Another Nation's record never holds them."""
    ref = revoked(flow)
    refusal, revocation = "Not a benefit", "Shared beyond the team (the Cedar reason)"
    sign_in(client, PEOPLE["cedar_steward1"][0])
    page = client.get(f"/nations/{CEDAR}/record").get_data(as_text=True)
    assert refusal in page and f"Revoked: {revocation}" in page
    rows = {row["reference"]: row for row in read_csv(client.get(f"/nations/{CEDAR}/record.csv"))}
    assert rows[decided["refused"]]["reason"] == "'-Not a benefit"
    assert rows[ref]["revocation reason"] == revocation
    text = pdf_text(client.get(f"/nations/{CEDAR}/record.pdf").get_data())
    assert refusal in text and revocation in text
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/").text)})
    sign_in(client, PEOPLE["heron_steward"][0])
    heron = {row["reference"]: row for row in read_csv(client.get(f"/nations/{HERON}/record.csv"))}
    assert heron[ref]["revocation reason"] == "", "Red Cedar's reason is Red Cedar's own"
    assert revocation not in client.get(f"/nations/{HERON}/record").get_data(as_text=True)
