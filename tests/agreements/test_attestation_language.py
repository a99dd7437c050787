"""The destruction attestation is written in the language of the agreement in force, so
the Nations read it as they signed: French for one signed in French; for one signed in
English and French side by side, the researcher's own language (it is their statement),
else English."""

import io

import pytest
from pypdf import PdfReader
from sqlmodel import select

from portal.auth.models import User
from portal.db import session_scope
from portal.lifecycle import attestations
from portal.workflow import commands as c

from agreement_kit import ATTEST, request_of


def attested_text(app, flow, agreement_language: str, researcher_speaks=None) -> str:
    ref = flow.active(agreement_language=agreement_language)
    with app.app_context(), session_scope() as session:
        researcher = session.exec(select(User).where(User.email == "researcher@example.org")).one()
        researcher.language = researcher_speaks
    flow.perform("researcher", ref, c.Close(reason="Project finished early"))
    flow.perform("researcher", ref, c.AttestDestruction(**ATTEST))
    with app.app_context(), session_scope() as session:
        made = attestations.latest(session, request_of(session, ref))
        pdf = attestations.stored_pdf(session, made)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


FRENCH = ("Attestation de destruction", "Page 1 de 1", "y a mis fin plus tôt")
ENGLISH = ("Destruction attestation", "Page 1 of 1", "the researcher closed it early")


@pytest.mark.parametrize(
    ("agreement_language", "researcher_speaks", "expected", "not_expected"),
    [
        ("fr", None, FRENCH, ENGLISH),
        ("fr", "en", FRENCH, ENGLISH),  # the agreement's language, not the researcher's
        ("en", "fr", ENGLISH, FRENCH),
        ("both", "fr", FRENCH, ENGLISH),
        ("both", None, ENGLISH, FRENCH),
    ],
)
def test_the_attestation_speaks_the_agreements_language(
    app, flow, agreement_language, researcher_speaks, expected, not_expected
):
    text = attested_text(app, flow, agreement_language, researcher_speaks)
    for words in expected:
        assert words in text, text
    for words in not_expected:
        assert words not in text, text
    assert ATTEST["what"] in text  # the researcher's own words, as written
