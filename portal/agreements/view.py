"""What the request page (and the API) show of an agreement: its state, who signed,
and where the person looking may still sign."""

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from portal.agreements.models import Agreement, AgreementSignature, AgreementStatus
from portal.agreements.parties import Party, may_sign_for, parties_of
from portal.agreements.service import current, signatures_of
from portal.auth.models import User
from portal.requests.models import AccessRequest


@dataclass
class PartyLine:
    party: Party
    signature: AgreementSignature | None
    signer: User | None


@dataclass
class AgreementView:
    """What the request page (and the API) show of an agreement."""

    agreement: Agreement
    parties: list[PartyLine]
    to_sign: list[Party]  # the places the person looking may sign now

    def as_dict(self) -> dict[str, Any]:
        a = self.agreement
        return {
            "status": a.status.value,
            "language": a.language,
            "version": a.version,
            "sha256": a.sha256,
            "term_start": a.term_start.isoformat(),
            "term_end": a.term_end.isoformat(),
            "signatures": [
                {
                    "party": line.party.key,
                    "nation": line.party.nation.slug if line.party.nation else None,
                    "signed_by": line.signer.email if line.signer else None,
                    "signed_at": line.signature.signed_at.isoformat() if line.signature else None,
                }
                for line in self.parties
            ],
        }


def view(
    session: Session, request: AccessRequest, user: User | None = None
) -> AgreementView | None:
    """The agreement with who signed; ``to_sign``: where ``user`` still may sign."""
    agreement = current(session, request)
    if agreement is None:
        return None
    signatures = {s.party: s for s in signatures_of(session, agreement)}
    lines = []
    to_sign = []
    for party in parties_of(session, request):
        signature = signatures.get(party.key)
        signer = session.get(User, signature.signer_id) if signature else None
        lines.append(PartyLine(party, signature, signer))
        if signature is None and user is not None and may_sign_for(session, user, request, party):
            to_sign.append(party)
    if agreement.status != AgreementStatus.AWAITING_SIGNATURES:
        to_sign = []
    return AgreementView(agreement, lines, to_sign)
