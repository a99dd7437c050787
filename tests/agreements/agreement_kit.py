"""What the agreement tests share: the conditions the Nations attach, the signers,
and ways to read back a stored agreement and its text."""

import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date

import pytest
from cryptography import x509
from pypdf import PdfReader
from sqlmodel import select

from portal.agreements import ca
from portal.agreements import service as agreements
from portal.agreements.settings import settings_for
from portal.auth.models import User
from portal.db import session_scope
from portal.requests.models import AccessRequest
from portal.storage.models import StoredFile

from helpers import PASSWORD

CEDAR_CONDITIONS = ["community_output_review", "aggregate_only", "Share results with the Elders."]
HERON_CONDITIONS = ["non_commercial", "Acknowledge the Métis Nation's knowledge keepers by name."]
# The researcher of the shared agreement: Cree syllabics and French accents.
RESEARCHER_NAME = "Émilie ᓀᐦᐃᔭᐍᐏᐣ"
SIGNERS = (("researcher", None), ("cedar_rep", "red-cedar"), ("heron_rep", "blue-heron"))
# The first standard clauses as the PDF reads, in English and in French.
CLAUSES_EN = [
    "Purpose. The data is used only for the purpose approved",
    "No re-identification. No one attempts to identify",
    "No onward transfer. The data is not disclosed, sold or transferred",
    "Ownership and acknowledgement. Each Nation keeps ownership of its data",
    "Community review of outputs. Before publication, every output is submitted for review",
    "Return or destruction. At the end of the term, or at once when a Nation revokes",
    "Termination on breach. A breach of this agreement ends it",
]
CLAUSES_FR = [
    "Objet. Les données servent uniquement à l’objet approuvé",
    "Aucune réidentification. Personne ne tente d’identifier",
    "Aucun transfert ultérieur.",
    "Propriété et reconnaissance. Chaque Nation demeure propriétaire",
    "Examen des résultats par la communauté. Avant publication",
    "Restitution ou destruction. À la fin de la durée",
    "Résiliation en cas de manquement.",
]

# A destruction attestation's fields, as the researcher types them (fictional).
ATTEST = {
    "what": "Every extract of cedar-health and heron-schools, and the derived tables",
    "method": "Secure erase (NIST 800-88 purge) of the project drive; backups expired",
    "done_on": str(date.today()),
    "done_by": "Robin Researcher (fictional), with the university's IT security office",
    "password": PASSWORD,
}


@dataclass
class Signed:
    ref: str
    pdf: bytes
    ca_certificate: x509.Certificate


def request_of(session, ref: str) -> AccessRequest:
    return session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()


def stored_pdf(app, ref: str) -> bytes:
    with app.app_context(), session_scope() as session:
        agreement = agreements.current(session, request_of(session, ref))
        return agreements.stored_pdf(session, agreement)


def alter_stored(app, digest: str, extra: bytes = b"\n% altered\n") -> None:
    """Change the bytes the database keeps under ``digest`` (its row stays)."""
    with app.app_context(), session_scope() as session:
        row = session.get(StoredFile, digest)
        row.data = bytes(row.data) + extra
        session.add(row)


def ca_certificate(app) -> x509.Certificate:
    with app.app_context(), session_scope() as session:
        return ca.authority(settings_for(session)).certificate


def rename(app, who_email: str, name: str, institution: str = "") -> None:
    with app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == who_email)).one()
        user.name, user.institution = name, institution
        session.add(user)


def pdf_text(pdf: bytes) -> str:
    """The text of every page, joined, with runs of white space made single spaces."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def flip(pdf: bytes, position: int) -> bytes:
    """``pdf`` with one bit of one byte changed."""
    return pdf[:position] + bytes([pdf[position] ^ 0x01]) + pdf[position + 1 :]


def need_poppler(tool: str) -> None:
    """Skip without poppler's ``tool`` on a developer's machine; fail in CI."""
    if not shutil.which(tool):
        if os.environ.get("CI"):
            pytest.fail(f"{tool} (poppler-utils) must be installed in CI")
        pytest.skip(f"{tool} (poppler-utils) is not installed")


def pdfsig(path, *options) -> str:
    """poppler's report on the signatures of the PDF at ``path``."""
    need_poppler("pdfsig")
    done = subprocess.run(["pdfsig", *options, str(path)], capture_output=True, text=True)
    return done.stdout + done.stderr
