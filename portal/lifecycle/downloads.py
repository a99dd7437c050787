"""Reading a destruction attestation: the latest signed PDF, each download audited
like the agreement's (the caller checked that the person reads the agreement)."""

from sqlmodel import Session

from portal.agreements.parties import approving_nations
from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import User
from portal.errors import NotFound
from portal.lifecycle import attestations
from portal.requests.models import AccessRequest


def download(session: Session, user: User, request: AccessRequest) -> tuple[str, bytes]:
    found = attestations.latest(session, request)
    if found is None:
        raise NotFound(f"{request.ref} has no destruction attestation")
    data = attestations.stored_pdf(session, found)
    record_event(
        session,
        action=EventType.ATTESTATION_DOWNLOADED,
        actor=user,
        request=request,
        nations=approving_nations(session, request),
        details={"number": found.number, "sha256": found.sha256},
    )
    return f"destruction-attestation-{request.ref}-{found.number}.pdf", data
