"""Did this portal issue that PDF? Who signed it, when, and does the access it grants
still stand? Anyone may ask (the verification page needs no sign-in), so the answer
names only what the document itself shows: its parties, its reference, its status."""

import hashlib
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from portal.agreements import ca, signing
from portal.agreements.models import (
    Agreement,
    AgreementSignature,
    AgreementVersion,
    ReadingCopy,
)
from portal.agreements.parties import parties_of_edition
from portal.agreements.settings import settings_for
from portal.auth.models import User
from portal.registry.models import Nation
from portal.requests.models import AccessRequest, RequestStatus


@dataclass(frozen=True)
class SignatureLine:
    report: signing.SignatureReport
    recorded: AgreementSignature | None  # the portal's own record of it, when it has one
    signer_name: str
    nation_name: str | None


@dataclass
class Verification:
    sha256: str
    readable: bool = True
    uncheckable: str | None = None  # why its signatures could not be checked, if so
    version: AgreementVersion | None = None  # an exact match of a stored version
    reading_copy: ReadingCopy | None = None  # a reading copy the portal made: no signature
    agreement: Agreement | None = None
    request: AccessRequest | None = None
    signatures: list[SignatureLine] = field(default_factory=list)
    expected_signatures: int = 0

    @property
    def uncheckable_words(self) -> str | None:
        """Why the signatures could not be checked, in the language spoken now (the
        command line and the status code read ``uncheckable``, in English)."""
        from flask_babel import gettext as _

        if self.uncheckable is None:
            return None
        words = {
            signing.TOO_MANY: lambda: _(
                "The document has too many signature fields to check (more than %(most)s); "
                "no agreement of this portal has that many.",
                most=signing.MAX_SIGNATURE_FIELDS,
            ),
            signing.TOO_SLOW: lambda: _(
                "The document's signatures took too long to check, so they were not checked."
            ),
            signing.MALFORMED: lambda: _(
                "One of the document's signatures is malformed, so it could not be checked."
            ),
        }
        found = words.get(self.uncheckable)
        return found() if found else self.uncheckable

    @property
    def issued_here(self) -> bool:
        """The file is byte for byte a version the portal stored."""
        return self.version is not None

    @property
    def all_valid(self) -> bool:
        return bool(self.signatures) and all(
            line.report.intact and line.report.valid and line.report.trusted
            for line in self.signatures
        )

    @property
    def changed_after_signing(self) -> bool:
        """Signed here, but bytes were added after the last signature."""
        return bool(self.signatures) and not self.signatures[-1].report.whole_file

    @property
    def status(self) -> RequestStatus | None:
        """The request's status now; an active one past its term counts as expired."""
        if self.request is None:
            return None
        if (
            self.request.status == RequestStatus.ACTIVE
            and self.agreement is not None
            and self.agreement.term_end <= date.today()
        ):
            return RequestStatus.EXPIRED
        return self.request.status


def verify_pdf(session: Session, data: bytes) -> Verification:
    result = Verification(sha256=hashlib.sha256(data).hexdigest())
    result.version = session.exec(
        select(AgreementVersion).where(AgreementVersion.sha256 == result.sha256)
    ).first()
    authority = ca.authority(settings_for(session))
    try:
        reports = signing.read_signatures(data, authority.certificate)
    except ValueError:
        result.readable = False
        reports = []
    except signing.Uncheckable as why:
        result.uncheckable = why.message
        reports = []
    for report in reports:
        recorded = session.exec(
            select(AgreementSignature).where(
                AgreementSignature.sha256_after == report.revision_sha256
            )
        ).first()
        signer = session.get(User, recorded.signer_id) if recorded else None
        nation = (
            session.get(Nation, recorded.nation_id) if recorded and recorded.nation_id else None
        )
        result.signatures.append(
            SignatureLine(
                report,
                recorded,
                signer.name if signer else report.signer,
                nation.name if nation else None,
            )
        )
    agreement_id = result.version.agreement_id if result.version else None
    if agreement_id is None and not result.signatures:
        result.reading_copy = session.exec(
            select(ReadingCopy).where(ReadingCopy.sha256 == result.sha256)
        ).first()
        agreement_id = result.reading_copy.agreement_id if result.reading_copy else None
    if agreement_id is None:
        recorded_ids = {line.recorded.agreement_id for line in result.signatures if line.recorded}
        agreement_id = recorded_ids.pop() if len(recorded_ids) == 1 else None
    if agreement_id is not None:
        result.agreement = session.get(Agreement, agreement_id)
        result.request = session.get(AccessRequest, result.agreement.request_id)
        result.expected_signatures = len(
            parties_of_edition(session, result.request, result.agreement)
        )
    return result
