"""The agreement's text, read back from the PDF: parties, data, term, every condition
under its Nation, the standard clauses, the header and footer; and in French."""

import io
import re
import shutil
import subprocess

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from pypdf import PdfReader
from sqlmodel import select

from portal.agreements import downloads as agreement_downloads
from portal.agreements import render
from portal.agreements.clauses import STANDARD_CLAUSES
from portal.agreements.document import term_days
from portal.db import session_scope
from portal.paths import resource_dir
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.reviews.terms import STANDARD_CONDITIONS

from agreement_kit import CLAUSES_EN, CLAUSES_FR, RESEARCHER_NAME, pdf_text, request_of


@pytest.fixture
def english(issued) -> str:
    return pdf_text(issued.versions[0])


def test_the_parties_are_named(english):
    assert "This agreement is made between:" in english
    assert f"{RESEARCHER_NAME}, Université crie (fictional) (researcher@example.org)" in english
    assert (
        "Red Cedar Nation (fictional), which governs its data under OCAP, represented by rep.cedar"
        in english
    )
    assert (
        "Blue Heron Métis (fictional), which governs its data under OCAS, represented by rep.heron"
        in english
    )
    assert "The project team: Robin Researcher (PI)." in english
    assert "For Red Cedar Nation (fictional): a representative of the Nation" in english
    assert "For Blue Heron Métis (fictional): a representative of the Nation" in english
    assert f"The researcher: {RESEARCHER_NAME}" in english


def test_purpose_data_storage_and_term(issued, english):
    # Which edition it is, so a signer tells a renewal's from the one it replaces.
    assert re.search(r"Request \S+, revision 1, edition 1; issued \w+ \d{1,2}, \d{4}", english)
    assert "Describe how children in care are supported." in english
    assert (
        "Cedar health: custodian Health (fictional); data of Red Cedar Nation (fictional)."
        in english
    )
    assert (
        "Heron schools: custodian Schools (fictional); data of Blue Heron Métis (fictional)."
        in english
    )
    assert "the data is held only in Ontario, Canada (CA-ON)" in english
    start, end = issued.term_start, issued.term_end
    # Red Cedar's maximum term is 730 days; the request asks for 365.
    assert (end - start).days == 365
    long = "%B %-d, %Y"
    assert f"takes effect on {start.strftime(long)}" in english
    assert f"ends on {end.strftime(long)} (365 days)" in english


@pytest.mark.parametrize(
    ("retention", "limits", "days"),
    [(365, [730, None], 365), (900, [730, 800], 730), (100, [None], 100), (None, [], 365)],
)
def test_the_term_is_the_retention_capped_by_the_shortest_maximum(retention, limits, days):
    # The governance rule term_within_limit refuses approval beyond a Nation's
    # maximum; the cap is the agreement's own guarantee all the same.
    nations = [
        Nation(slug=f"n{i}", name="N", framework="OCAP", max_term_days=m)
        for i, m in enumerate(limits)
    ]
    request = AccessRequest(ref="R", researcher_id=1, retention_days=retention)
    assert term_days(request, nations) == days


def test_every_condition_is_under_its_nation(english):
    cedar = english.index("5. Conditions set by each Nation")
    heron_heading = english.index("Blue Heron Métis (fictional)", cedar)
    cedar_heading = english.index("Red Cedar Nation (fictional)", cedar)
    clauses = english.index("6. Standard clauses")
    heron_part = english[heron_heading:cedar_heading]
    cedar_part = english[cedar_heading:clauses]
    assert "Acknowledge the Métis Nation's knowledge keepers by name." in heron_part
    for condition in (
        "Outputs are reviewed by Red Cedar Nation (fictional) before publication.",
        "Only aggregate results are released; cells below 5 are suppressed.",
        "Share results with the Elders.",
    ):
        assert condition in cedar_part
        assert condition not in heron_part


def test_standard_clauses(english):
    missing = [clause for clause in CLAUSES_EN if clause not in english]
    assert missing == []
    positions = [english.index(clause) for clause in CLAUSES_EN]
    assert positions == sorted(positions)


def test_header_and_footer_on_every_page(issued):
    approved = issued.ref
    reader = PdfReader(io.BytesIO(issued.versions[0]))
    pages = len(reader.pages)
    assert pages >= 2
    for number, page in enumerate(reader.pages, start=1):
        text = " ".join(page.extract_text().split())
        assert f"Data-use agreement · {approved}" in text
        assert f"Page {number} of {pages}" in text


def test_french_reading_copy_of_a_signed_agreement(issued):
    pdf = issued.french
    french = pdf_text(pdf)
    assert "Entente d’utilisation des données" in french
    assert "Copie de lecture. L’entente signée est la version en anglais" in french
    assert "La présente entente est conclue entre :" in french
    assert re.search(r"Demande \S+, révision 1, édition 1 ; établie le", french)
    assert "représentée par rep.cedar" in french
    place = "Ontario, Canada (CA-ON)"
    assert f"Lieu de conservation, que les données ne quittent pas : {place}." in french
    assert re.search(r"prend effet le \d{1,2} \w+ \d{4}", french)
    # Standard conditions are translated with the Nation's values; a Nation's own
    # words stay as it wrote them.
    assert (
        "Les résultats sont examinés par Red Cedar Nation (fictional) avant publication." in french
    )
    assert "les cellules de moins de 5 sont supprimées" in french
    assert "Share results with the Elders." in french
    assert [clause for clause in CLAUSES_FR if clause not in french] == []
    assert f"Page 1 sur {len(PdfReader(io.BytesIO(pdf)).pages)}" in french
    assert "Purpose." not in french and "The data is used only" not in french


def test_every_sentence_of_the_template_has_its_french():
    template = resource_dir("templates") / render.TEMPLATE
    source = {
        message
        for _line, message, _comments, _context in extract_from_file(
            "jinja2", str(template), options={"extensions": "jinja2.ext.i18n"}
        )
    }
    source |= {text for _label, text in STANDARD_CONDITIONS.values()}
    # The first standard clauses: the template prints those of the agreement's rules.
    source |= {
        clause[key] for clause in STANDARD_CLAUSES for key in ("title", "text", "text_if_none")
        if key in clause
    }  # fmt: skip
    with (render.LOCALE_DIR / "fr" / "LC_MESSAGES" / "agreement.po").open("rb") as file:
        catalog = read_po(file)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    assert source - translated.keys() == set(), "sentences without French"
    assert translated.keys() - source == set(), "French for sentences the template dropped"
    for message, french in translated.items():
        placeholders = re.findall(r"%\(\w+\)s|\{\w+\}", message)
        assert sorted(placeholders) == sorted(re.findall(r"%\(\w+\)s|\{\w+\}", french)), message


def test_pdftotext_reads_the_same_text(issued):
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is not installed")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=issued.signed, capture_output=True, check=True
    ).stdout.decode()
    assert RESEARCHER_NAME in text
    assert "No re-identification." in text
    assert "Share results with the Elders." in text


def test_the_reading_copy_download_is_named_and_audited(app, flow, approved):
    from portal.audit.models import AuditEvent

    with app.app_context(), session_scope() as session:
        request = request_of(session, approved)
        name, pdf = agreement_downloads.download(
            session, flow.user(session, "heron_rep"), request, "fr"
        )
        event = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        action, details = event.action, event.details
    assert name == f"agreement-{approved}-fr-reading-copy.pdf"
    assert "Copie de lecture" in pdf_text(pdf)
    assert action == "agreement.downloaded"
    assert details["language"] == "fr" and details["kind"] == "reading copy"


YEARLY = "Report to the council every year (fictional)."
INTERIM = "Send an interim progress report (fictional)."


@pytest.mark.parametrize(
    ("language", "said"),
    [
        (
            "en",
            [
                f"{YEARLY} Due every 12 months.",
                f"{INTERIM} Due by June 30, 2027.",
                "Share results with the Elders. Due when access ends, at the end of the term",
            ],
        ),
        (
            "fr",
            [
                f"{YEARLY} À remplir tous les 12 mois.",
                f"{INTERIM} À remplir au plus tard le 30 juin 2027.",
                "Share results with the Elders. À remplir à la fin de l’accès",
            ],
        ),
    ],
)
def test_the_agreement_says_when_each_nations_own_condition_falls_due(app, flow, language, said):
    """Found in a browser: the signed agreement listed a Nation's own conditions without
    the dues the portal then held the researcher to. A standard condition's text says
    its own; a representative's due for it would be said too."""
    ref = flow.reviewed()
    dues = {YEARLY: "every 12 months", INTERIM: "2027-06-30"}
    conditions = [YEARLY, INTERIM, "Share results with the Elders.", "aggregate_only"]
    flow.do("cedar_rep", "decide", ref, "red-cedar", conditions=conditions, dues=dues)
    flow.do("heron_rep", "decide", ref, "blue-heron")
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        _name, pdf = agreement_downloads.download(
            session, flow.user(session, "researcher"), request, language
        )
    text = pdf_text(pdf)
    assert [words for words in said if words not in text] == []
    assert text.count("Due ") + text.count("À remplir") == 3, "the standard one says its own"
