"""The agreement in the language the parties choose (issue 13, part 2): the researcher asks
for English, French or both side by side; the agreement, and what every party signs, is
in that language. Real PDFs read back: pdfsig, pdftotext, the embedded terms."""

import io
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from lifecycle.renewals import reviewed_afresh
from pyld import jsonld
from pypdf import PdfReader
from test_agreement_terms import DUO, OWN, load_document, terms_in

from portal.agreements import downloads as agreement_downloads
from portal.agreements import render
from portal.agreements import service as agreements
from portal.db import session_scope

from agreement_kit import (
    CEDAR_CONDITIONS,
    CLAUSES_EN,
    CLAUSES_FR,
    HERON_CONDITIONS,
    SIGNERS,
    ca_certificate,
    pdf_text,
    pdfsig,
    request_of,
    stored_pdf,
)


def agreement_of(app, ref: str):
    with app.app_context(), session_scope() as session:
        agreement = agreements.current(session, request_of(session, ref))
        session.expunge(agreement)
        return agreement


def pdftotext(pdf: bytes) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is not installed")
    done = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(done.stdout.decode().split())


def trusting_the_portal_ca(app, tmp_path) -> list[str]:
    """pdfsig's options to trust the portal's CA (an NSS database holding it), or none
    without certutil (then pdfsig checks the signatures, not whom they chain to)."""
    if not shutil.which("certutil"):
        return []
    database = tmp_path / "nss"
    database.mkdir()
    ca_file = tmp_path / "portal-ca.pem"
    ca_file.write_bytes(ca_certificate(app).public_bytes(serialization.Encoding.PEM))
    subprocess.run(["certutil", "-N", "-d", f"sql:{database}", "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{database}", "-n", "portal", "-t", "C,C,C", "-i", ca_file],
        check=True,
    )
    return ["-nssdir", f"sql:{database}"]


def test_an_agreement_asked_in_french_is_issued_and_signed_in_french(app, flow, tmp_path):
    ref = flow.approved(
        cedar_conditions=CEDAR_CONDITIONS,
        heron_conditions=HERON_CONDITIONS,
        agreement_language="fr",
    )
    assert agreement_of(app, ref).language == "fr"
    for who, nation in SIGNERS:
        flow.do(who, "sign", ref, nation)
    signed = stored_pdf(app, ref)

    path = tmp_path / "accord.pdf"
    path.write_bytes(signed)
    report = pdfsig(path, *trusting_the_portal_ca(app, tmp_path))
    assert report.count("Signature Validation: Signature is Valid.") == len(SIGNERS), report
    assert report.count("Total document signed") == 1
    if shutil.which("certutil"):
        assert report.count("Certificate is Trusted.") == len(SIGNERS), report

    text = pdftotext(signed)
    assert "Entente d’utilisation des données" in text
    assert "La présente entente est conclue entre :" in text
    assert "Copie de lecture" not in text, "the signed text, not a reading copy"
    assert [clause for clause in CLAUSES_FR if clause not in text] == []
    assert "The data is used only" not in text and "This agreement is made between" not in text

    # Its terms: one JSON-LD file, in the agreement's language, with its DUO codes.
    terms = terms_in(signed)
    assert terms["dct:language"] == "fr"
    [policy] = jsonld.expand(terms, {"documentLoader": load_document})
    odrl = "http://www.w3.org/ns/odrl/2/"
    codes = {
        code["@id"]
        for permission in policy[odrl + "permission"]
        for duty in permission[odrl + "duty"]
        for code in duty.get("http://purl.org/dc/terms/type", [])
    }
    assert codes == {DUO + "0000046", OWN + "community_output_review", OWN + "aggregate_only"}

    # The other language is the reading copy, as for an English agreement.
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        reader = flow.user(session, "researcher")
        name, english = agreement_downloads.download(session, reader, request, "en")
    assert name == f"agreement-{ref}-en-reading-copy.pdf"
    assert "Reading copy. The signed agreement is the version in French" in pdf_text(english)


def page_texts(pdf: bytes) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages]


def test_an_agreement_in_both_sets_english_and_french_side_by_side(app, flow, tmp_path):
    ref = flow.approved(
        cedar_conditions=CEDAR_CONDITIONS,
        heron_conditions=HERON_CONDITIONS,
        agreement_language="both",
        # What a party writes cannot pass for one of the template's part markers.
        purpose="Children in care <!--part--> and <!--/parts--> (fictional).",
    )
    agreement = agreement_of(app, ref)
    assert agreement.language == "both"
    for who, nation in SIGNERS:
        flow.do(who, "sign", ref, nation)
    signed = stored_pdf(app, ref)
    path = tmp_path / "agreement.pdf"
    path.write_bytes(signed)
    assert pdfsig(path).count("Signature Validation: Signature is Valid.") == len(SIGNERS)

    pages = page_texts(signed)
    text = " ".join(pages)
    for english, french in zip(CLAUSES_EN, CLAUSES_FR, strict=True):
        # The first words of each: a line of a half-width column may end anywhere after.
        english, french = " ".join(english.split()[:2]), " ".join(french.split()[:2])
        on = [number for number, page in enumerate(pages) if english in page]
        assert on and any(french in pages[number] for number in on), (english, french)
    assert "Data-use agreement / Entente d’utilisation des données" in text
    assert text.count("Children in care <!--part--> and <!--/parts--> (fictional).") == 2
    assert "Copie de lecture" not in text and "Reading copy" not in text
    # The signature blocks once, their labels in both languages.
    assert text.count("(signature field Researcher)") == 1
    assert text.count("(champ de signature Researcher)") == 1
    fields = PdfReader(io.BytesIO(signed)).get_fields()
    assert sorted(fields) == sorted(["Researcher", "Nation-red-cedar", "Nation-blue-heron"]), (
        "one signature field per party"
    )

    # One terms file, in English; no reading copy of what both languages already say.
    assert terms_in(signed)["dct:language"] == "en"
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        reader = flow.user(session, "researcher")
        name, same = agreement_downloads.download(session, reader, request)
        assert name == f"agreement-{ref}.pdf" and same == signed
        for language in render.LANGUAGES:
            with pytest.raises(agreement_downloads.NoReadingCopy):
                agreement_downloads.download(session, reader, request, language)


def test_the_page_offers_no_reading_copy_of_an_agreement_in_both(app, flow):
    from helpers import sign_in

    ref = flow.approved(agreement_language="both")
    client = app.test_client()
    sign_in(client, "researcher@example.org")
    page = client.get(f"/requests/{ref}").text
    assert "Download the agreement in English and French" in page
    assert "reading copy" not in page and "copie de lecture" not in page
    refused = client.get(f"/requests/{ref}/agreement.pdf?lang=fr")
    assert refused.status_code == 404
    assert "signed in English and French side by side: it has no reading copy" in refused.text


def test_a_renewal_is_issued_in_the_language_its_revision_asks(app, flow):
    ref = flow.active(agreement_language="fr")
    flow.do("researcher", "renew", ref)
    flow.edit("researcher", ref, agreement_language="both")
    reviewed_afresh(flow, ref)
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    flow.do("heron_rep", "decide", ref, "blue-heron")
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        found = agreements.editions_of(session, request)
        assert [(e.edition, e.language) for e in found] == [(1, "fr"), (2, "both")]
        # The Nations saw the change among what the renewal changes.
        from portal.requests.service import changes_since

        assert "agreement_language" in [name for name, *_ in changes_since(session, request, 1)]
