"""What the request page (and the API) show of an agreement: its state, who signed,
and where the person looking may still sign."""

from dataclasses import dataclass, field

from sqlmodel import Session

from portal.agreements.models import Agreement, AgreementSignature
from portal.agreements.parties import Party, parties_of_edition
from portal.agreements.service import current, editions_of, pending, signatures_of
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
    # Every edition, newest first (a renewal or amendment issues one more), and the
    # one awaiting its parties' signatures while the current one stays in force.
    editions: list[Agreement] = field(default_factory=list)
    pending: "AgreementView | None" = None

    @property
    def signed(self) -> int:
        """How many parties signed: the download says what the file is by it."""
        return sum(1 for line in self.parties if line.signature is not None)


def view(session: Session, request: AccessRequest) -> AgreementView | None:
    """The agreement in force with who signed, every edition, and the pending one. Where
    a person may still sign is the workflow's to say (available(): the "sign" options)."""
    agreement = current(session, request)
    if agreement is None:
        return None
    shown = _lines(session, request, agreement)
    shown.editions = list(reversed(editions_of(session, request)))
    waiting = pending(session, request)
    shown.pending = _lines(session, request, waiting) if waiting is not None else None
    return shown


def _lines(session: Session, request: AccessRequest, agreement: Agreement) -> AgreementView:
    signatures = {s.party: s for s in signatures_of(session, agreement)}
    lines = []
    for party in parties_of_edition(session, request, agreement):
        signature = signatures.get(party.key)
        signer = session.get(User, signature.signer_id) if signature else None
        lines.append(PartyLine(party, signature, signer))
    return AgreementView(agreement, lines)
