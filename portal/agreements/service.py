"""Data-use agreements: issue, sign, mark, download. Flush, never commit; no Flask.

The workflow calls ``issue`` when the last Nation approves and ``add_signature``
once it has checked who may sign (workflow.sign). The signature itself is computed
by ``sign_document``, before the write transaction when the adapter can (signing is
slow); ``add_signature`` stores it only if ``still_current``. Each version's PDF is
kept in the shared storage (portal/storage) under its SHA-256, which the agreement, its
versions and the audit record name, so a changed file is noticed before anyone signs it,
and every application host serves the same bytes.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.agreements import appearance, ca, editions, odrl, render, signing
from portal.agreements.document import document, language_asked, term_days
from portal.agreements.layout import EmbeddedFile
from portal.agreements.models import (
    Agreement,
    AgreementSignature,
    AgreementStatus,
    AgreementVersion,
    SignerCredential,
)
from portal.agreements.parties import Party, approved_now
from portal.agreements.settings import settings_for
from portal.auth.models import User
from portal.db import TransactionCache, utcnow
from portal.errors import ServiceError
from portal.policy.models import rules_version_in_force
from portal.requests.models import AccessRequest, AmendmentKind
from portal.reviews.models import Decision
from portal.storage import service as storage

PDF = "application/pdf"

# Per transaction: a request page asks for the agreement and its signatures once for
# every step it offers (signing, for each party) and again for the agreement's panel.
_cache = TransactionCache("portal.agreements", (Agreement, AgreementSignature))


# Which edition is in force, which one waits for signatures (portal/agreements/editions.py).
current = editions.current
pending = editions.pending
to_sign = editions.to_sign
editions_of = editions.editions_of


def preload(session: Session, requests: list[AccessRequest]) -> None:
    """Read the agreements of ``requests`` (every edition) and their signatures in two
    queries, kept for this transaction: a page offering signing on many requests asks
    nothing more. Editions already read in this transaction are not read again, and
    their signatures are read all the same."""
    editions.preload(session, [r.id for r in requests])
    known = _cache(session)
    agreements = [
        agreement
        for request in requests
        for agreement in editions.editions_of(session, request)  # kept: no statement
        if ("signatures", agreement.id) not in known
    ]
    found: dict = {("signatures", a.id): [] for a in agreements}
    if agreements:
        query = select(AgreementSignature).where(
            AgreementSignature.agreement_id.in_([a.id for a in agreements])
        )
        for signature in session.exec(query.order_by(AgreementSignature.id)):
            found["signatures", signature.agreement_id].append(signature)
    _cache(session).update(found)  # after the queries: their autoflush may empty the cache


def signatures_of(session: Session, agreement: Agreement) -> list[AgreementSignature]:
    key = ("signatures", agreement.id)
    if (found := _cache(session).get(key)) is None:
        query = select(AgreementSignature).where(AgreementSignature.agreement_id == agreement.id)
        found = _cache(session)[key] = list(session.exec(query.order_by(AgreementSignature.id)))
    return list(found)


def signed_parties(session: Session, agreement: Agreement | None) -> set[str]:
    """The keys of the parties that have signed ``agreement`` (none without one)."""
    return {s.party for s in signatures_of(session, agreement)} if agreement else set()


def stored_pdf(session: Session, agreement: Agreement) -> bytes:
    """The latest version's bytes, checked against the digest the database holds."""
    try:
        return storage.get(session, agreement.sha256)
    except ServiceError as error:
        message = _("The agreement's file cannot be used: %(why)s", why=error.message)
        raise ServiceError(message) from None


def _add_version(session: Session, agreement: Agreement, pdf: bytes) -> AgreementVersion:
    digest = storage.put(session, pdf, PDF)
    version = AgreementVersion(
        agreement_id=agreement.id, number=agreement.version, sha256=digest, size=len(pdf)
    )
    agreement.sha256 = digest
    agreement.updated_at = utcnow()
    session.add_all([agreement, version])
    session.flush()
    return version


def issue(
    session: Session,
    request: AccessRequest,
    language: str | None = None,
    rules_version: int | None = None,
    drafted: "DraftedEdition | None" = None,
) -> Agreement:
    """Write the next edition of the agreement of a revision every Nation approved,
    ready for signature: the first, or a renewal's or amendment's. A renewal runs a
    fresh term from today; an amendment keeps the term end of the edition in force.
    It is in the language the revision asks (``language``, when given, overrides it:
    "en", "fr" or "both"). ``drafted``: the edition rendered before the write
    transaction (``draft``), whose PDF is kept only if it says exactly what this one
    does; else (anything changed since) the PDF is rendered here. The caller records
    the event (the workflow: in the last approval's)."""
    language = language or language_asked(session, request)
    if language not in render.SIGNED_LANGUAGES:
        raise ServiceError(f"No agreement can be issued in {language!r}.")
    found = editions_of(session, request)
    in_force = current(session, request)
    if found and (in_force is None or in_force.effective_at is None or pending(session, request)):
        raise ServiceError(_("%(ref)s has an agreement already.", ref=request.ref))
    agreement = _next_edition(session, request, language, rules_version)
    session.add(agreement)
    session.flush()
    text = document(session, request, agreement)
    if drafted is not None and drafted.says(text, language):
        pdf = drafted.pdf
    else:
        pdf = _render_edition(text, language)
    _add_version(session, agreement, pdf)
    return agreement


@dataclass(frozen=True)
class DraftedEdition:
    """An edition rendered before the write transaction (rendering is slow): what it
    says, in which language, and its PDF, ready for signature."""

    text: dict[str, Any] = field(repr=False)
    language: str
    pdf: bytes = field(repr=False)

    def says(self, text: dict[str, Any], language: str) -> bool:
        """Whether this PDF is the one ``text`` in ``language`` renders: the PDF is made
        from those two alone."""
        return self.language == language and self.text == text


def draft(session: Session, request: AccessRequest, approval: Decision) -> DraftedEdition:
    """The edition ``issue`` will write once ``approval`` (a Decision, not stored: the
    last Nation's) is, rendered now and writing nothing: the slow part, which the
    workflow runs before its write transaction (workflow.perform_ahead)."""
    language = language_asked(session, request)
    agreement = _next_edition(session, request, language, approval.rules_version, approval)
    text = document(session, request, agreement, approval)
    return DraftedEdition(text, language, _render_edition(text, language))


def _next_edition(
    session: Session,
    request: AccessRequest,
    language: str,
    rules_version: int | None,
    approval: Decision | None = None,
) -> Agreement:
    """The next edition's row, not added to the session: its number, revision, language
    and term (the Nations' shortest maximum, ``approval``'s Nation counted)."""
    in_force = current(session, request)
    nations = approved_now(session, request, approval.nation_id if approval else None)
    start = utcnow().date()
    end = start + timedelta(days=term_days(request, nations))
    if in_force is not None and request.amendment_kind == AmendmentKind.AMEND:
        start, end = min(start, in_force.term_end), in_force.term_end
    return Agreement(
        request_id=request.id,
        edition=len(editions_of(session, request)) + 1,
        revision=request.current_revision,
        language=language,
        term_start=start,
        term_end=end,
        sha256="",
        rules_version=rules_version or rules_version_in_force(session),
    )


def _render_edition(text: dict[str, Any], language: str) -> bytes:
    """The PDF of an edition: ``text`` in ``language``, its terms embedded, with an
    empty signature field for each party."""
    terms = terms_file(text, render.terms_language(language))
    pdf, boxes = render.render_for_signing(text, language, terms)
    return appearance.add_fields(pdf, boxes)


def terms_file(text: dict[str, Any], language: str) -> EmbeddedFile:
    """The machine-readable terms (ODRL) of the agreement ``text`` says, to embed, their
    words in ``language`` (which their dct:language names)."""
    data = odrl.serialize(odrl.policy(text, language))
    return EmbeddedFile(odrl.FILENAME, data, odrl.MEDIA_TYPE, odrl.DESCRIPTION)


def signed_terms(session: Session, agreement: Agreement) -> bytes | None:
    """The terms file embedded in the latest version (what every signature covers), or
    None for an agreement issued before terms were embedded."""
    return odrl.embedded(stored_pdf(session, agreement))


def credential_for(
    session: Session, user: User, party: Party
) -> tuple[signing.Credential, SignerCredential]:
    """The signer's key and certificate for this role (and Nation), issued on first use
    or when their name or institution changed since."""
    settings = settings_for(session)
    authority = ca.authority(settings)
    organisation = party.nation.name if party.nation else (user.institution or "Independent")
    title = "Researcher" if party.nation is None else f"Representative of {party.nation.name}"
    subject = ca.signer_name(user.name, organisation, title, user.email)
    nation_id = party.nation.id if party.nation else None
    rows = session.exec(
        select(SignerCredential)
        .where(
            SignerCredential.user_id == user.id,
            SignerCredential.role == party.role.value,
            SignerCredential.nation_id == nation_id
            if nation_id
            else SignerCredential.nation_id.is_(None),
        )
        .order_by(SignerCredential.id.desc())
    ).all()
    for row in rows:
        certificate = ca.from_pem(row.certificate_pem)
        usable = certificate.subject == subject and certificate.issuer == (
            authority.certificate.subject
        )
        if usable and certificate.not_valid_after_utc.date() > date.today() + timedelta(days=30):
            try:
                key = ca.unwrap_key(settings.secret, row.encrypted_key, _context(row))
            except InvalidTag:  # sealed under a secret since changed: issue a new one
                continue
            return signing.Credential(key, certificate, authority.certificate), row
    key, certificate = ca.issue(authority, subject)
    row = SignerCredential(
        user_id=user.id,
        role=party.role.value,
        nation_id=nation_id,
        fingerprint=ca.fingerprint(certificate),
        certificate_pem=ca.to_pem(certificate),
        encrypted_key="",
    )
    row.encrypted_key = ca.wrap_key(settings, key, _context(row))
    # Not stored yet: the signature may be computed outside the write transaction;
    # add_signature stores the row with the signature made with it.
    return signing.Credential(key, certificate, authority.certificate), row


def _context(row: SignerCredential) -> str:
    return f"user:{row.user_id}|cert:{row.fingerprint}"


@dataclass(frozen=True)
class SignedDocument:
    """A party's signature on one version of the agreement, and what it was computed
    over: it may be stored only while that version is still the latest."""

    signer_id: int
    party: str
    agreement_id: int
    version: int  # the version signed (the new one will be version + 1)
    sha256_before: str
    pdf: bytes = field(repr=False)
    credential: SignerCredential = field(repr=False)  # perhaps issued for it, not stored


def sign_document(
    session: Session, user: User, request: AccessRequest, agreement: Agreement, party: Party
) -> SignedDocument:
    """Sign the latest version as ``party``, writing nothing: the slow part (pyHanko),
    which the workflow runs before its write transaction (workflow.perform_ahead)."""
    credential, row = credential_for(session, user, party)
    pdf = signing.sign(
        stored_pdf(session, agreement),
        party.field_name,
        credential,
        reason=f"Data-use agreement {request.ref}",
        name=user.name,
    )
    return SignedDocument(
        signer_id=user.id,
        party=party.key,
        agreement_id=agreement.id,
        version=agreement.version,
        sha256_before=agreement.sha256,
        pdf=pdf,
        credential=row,
    )


def still_current(agreement: Agreement | None, signed: SignedDocument) -> bool:
    """Whether ``signed`` was computed over what is now the latest version."""
    return (
        agreement is not None
        and agreement.id == signed.agreement_id
        and agreement.version == signed.version
        and agreement.sha256 == signed.sha256_before
    )


def add_signature(
    session: Session,
    user: User,
    request: AccessRequest,
    agreement: Agreement,
    party: Party,
    signed: SignedDocument | None = None,
) -> AgreementSignature:
    """Store ``signed`` (signing here when not given) as the new latest version; the
    workflow checked who may sign and that ``signed`` is still current. Returns the
    signature row; the caller records the event."""
    signed = signed or sign_document(session, user, request, agreement, party)
    if not still_current(agreement, signed) or signed.party != party.key:
        raise ServiceError(_("The agreement changed after it was signed; nothing was stored."))
    row = signed.credential
    session.add(row)
    session.flush()
    agreement.version += 1
    version = _add_version(session, agreement, signed.pdf)
    signature = AgreementSignature(
        agreement_id=agreement.id,
        party=party.key,
        signer_id=user.id,
        role=party.role.value,
        nation_id=party.nation.id if party.nation else None,
        field_name=party.field_name,
        credential_id=row.id,
        sha256_after=version.sha256,
    )
    session.add(signature)
    session.flush()
    return signature


def mark(session: Session, request: AccessRequest, status: AgreementStatus) -> None:
    """Record that the current edition took effect, ended or never will (no-op without
    one). An edition that took effect is never void: it ends (expired, revoked, ended
    early) or is superseded; a pending edition is voided with ``mark_edition``."""
    agreement = current(session, request)
    if agreement is None or (status is AgreementStatus.VOID and agreement.effective_at):
        return
    mark_edition(session, agreement, status)


def mark_edition(session: Session, agreement: Agreement, status: AgreementStatus) -> None:
    if agreement.status != status:
        agreement.status = status
        agreement.updated_at = utcnow()
        session.add(agreement)
        session.flush()


def take_effect(session: Session, request: AccessRequest, agreement: Agreement) -> Agreement | None:
    """The last party signed ``agreement``: it is in force; the edition that was is
    superseded (its PDF and versions stay as they are). Returns the superseded one."""
    before = current(session, request)
    agreement.effective_at = utcnow()
    mark_edition(session, agreement, AgreementStatus.ACTIVE)
    if before is not None and before.id != agreement.id and before.effective_at is not None:
        mark_edition(session, before, AgreementStatus.SUPERSEDED)
        return before
    return None
