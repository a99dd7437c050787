"""Reading an agreement: an edition's PDF as signed, a reading copy in the other
language (its digest kept for /verify), its machine-readable terms. Each download is an
audit event; the callers checked that the reader may read it (may_read_agreement)."""

import hashlib

from sqlmodel import Session, select

from portal.agreements import render
from portal.agreements.document import document
from portal.agreements.models import Agreement, ReadingCopy
from portal.agreements.parties import approving_nations
from portal.agreements.service import (
    current,
    editions_of,
    pending,
    signed_terms,
    stored_pdf,
)
from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import User
from portal.errors import NotFound
from portal.requests.models import AccessRequest


class NoReadingCopy(NotFound):
    """An agreement signed in English and French side by side: every reader reads it in
    their language as it was signed, so no reading copy is made of it."""

    def __init__(self, ref: str) -> None:
        super().__init__(
            f"Agreement {ref} is signed in English and French side by side: "
            "it has no reading copy; read the signed agreement."
        )
        self.ref = ref


def edition(session: Session, request: AccessRequest, number: int | None) -> Agreement:
    """The edition ``number`` (None: the current one); NotFound if there is none."""
    agreement = current(session, request)
    if number is not None:
        agreement = next((e for e in editions_of(session, request) if e.edition == number), None)
    if agreement is None:
        raise NotFound(f"{request.ref} has no such agreement")
    return agreement


def download_terms(
    session: Session, user: User, request: AccessRequest, number: int | None = None
) -> tuple[str, bytes]:
    """The machine-readable terms of an edition (None: the current one) for someone who
    may read it (the caller checked that), as embedded in its signed PDF. Audited like
    the PDF: it is the agreement read by a machine."""
    agreement = edition(session, request, number)
    data = signed_terms(session, agreement)
    if data is None:
        raise NotFound(f"{request.ref} has no machine-readable terms")
    language = render.terms_language(agreement.language)  # one file, for "both" English
    _record_download(session, user, request, agreement, data, language, "terms")
    suffix = f"-edition-{agreement.edition}" if agreement.edition > 1 else ""
    return f"agreement-{request.ref}{suffix}-terms.jsonld", data


def _record_download(
    session: Session,
    user: User,
    request: AccessRequest,
    agreement: Agreement,
    data: bytes,
    language: str,
    kind: str,
) -> None:
    record_event(
        session,
        action=EventType.AGREEMENT_DOWNLOADED,
        actor=user,
        request=request,
        nations=approving_nations(session, request),
        details={
            "edition": agreement.edition,
            "version": agreement.version,
            "sha256": hashlib.sha256(data).hexdigest(),
            "language": language,
            "kind": kind,
        },
    )


def _keep_reading_copy(session: Session, agreement: Agreement, data: bytes, language: str) -> None:
    """Remember a reading copy's digest (not its bytes: it is made again on demand), so
    /verify can say what it is."""
    digest = hashlib.sha256(data).hexdigest()
    if session.exec(select(ReadingCopy.id).where(ReadingCopy.sha256 == digest)).first() is None:
        session.add(ReadingCopy(agreement_id=agreement.id, sha256=digest, language=language))
        session.flush()


def download(
    session: Session,
    user: User,
    request: AccessRequest,
    language: str | None = None,
    number: int | None = None,
) -> tuple[str, bytes]:
    """An edition of the agreement (None: the current one) for someone who may read it
    (the caller checked that): the signed document, or for the current edition a
    reading copy in the other language (none of one signed in both). Audited."""
    agreement = edition(session, request, number)
    language = language or agreement.language
    if language != agreement.language and language not in render.LANGUAGES:
        raise NotFound(f"no agreement in {language!r}")
    if language != agreement.language and agreement.language == render.BOTH:
        raise NoReadingCopy(request.ref)
    readable = {e.id for e in (current(session, request), pending(session, request)) if e}
    if language != agreement.language and agreement.id not in readable:
        raise NotFound("a reading copy is made of the current or pending edition only")
    if language == agreement.language:
        data, kind = stored_pdf(session, agreement), "signed document"
    else:
        text = {**document(session, request, agreement), "reading_copy": True}
        data = render.render_pdf(text, language)
        kind = "reading copy"
        _keep_reading_copy(session, agreement, data, language)
    _record_download(session, user, request, agreement, data, language, kind)
    suffix = "" if language == agreement.language else f"-{language}-reading-copy"
    suffix = f"-edition-{agreement.edition}{suffix}" if agreement.edition > 1 else suffix
    return f"agreement-{request.ref}{suffix}.pdf", data
