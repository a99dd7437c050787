"""What the request page (and the API) show of an agreement: its state, who signed,
and where the person looking may still sign."""

from dataclasses import dataclass

from sqlmodel import Session

from portal.agreements.models import Agreement, AgreementSignature
from portal.agreements.parties import Party, parties_of
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

    @property
    def signed(self) -> int:
        """How many parties signed: the download says what the file is by it."""
        return sum(1 for line in self.parties if line.signature is not None)


def view(session: Session, request: AccessRequest) -> AgreementView | None:
    """The agreement with who signed. Where a person may still sign is the workflow's
    to say (available(): the "sign" options)."""
    agreement = current(session, request)
    if agreement is None:
        return None
    signatures = {s.party: s for s in signatures_of(session, agreement)}
    lines = []
    for party in parties_of(session, request):
        signature = signatures.get(party.key)
        signer = session.get(User, signature.signer_id) if signature else None
        lines.append(PartyLine(party, signature, signer))
    return AgreementView(agreement, lines)
