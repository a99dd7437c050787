"""Who signs an agreement: the researcher, and one representative for each Nation that
approved (a later revocation does not unmake the approval: that Nation stays a party)."""

from dataclasses import dataclass

from sqlmodel import Session

from portal.auth.models import Role, User
from portal.errors import ValidationError
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.reviews.models import TrackStatus
from portal.reviews.service import holder_ids, tracks_of

RESEARCHER = "researcher"


@dataclass(frozen=True)
class Party:
    """A party who must sign: the researcher, or one approving Nation (any of its
    representatives signs for it)."""

    key: str  # "researcher" or "nation:<id>"
    nation: Nation | None

    @property
    def field_name(self) -> str:
        return "Researcher" if self.nation is None else f"Nation-{self.nation.slug}"

    @property
    def role(self) -> Role:
        return Role.RESEARCHER if self.nation is None else Role.REPRESENTATIVE


def approving_nations(session: Session, request: AccessRequest) -> list[Nation]:
    """The Nations that approved, revoked approvals included."""
    approved = (TrackStatus.APPROVED, TrackStatus.REVOKED)
    return [n for t, n in tracks_of(session, request) if t.status in approved]


def parties_of(session: Session, request: AccessRequest) -> list[Party]:
    nations = approving_nations(session, request)
    return [Party(RESEARCHER, None)] + [Party(f"nation:{n.id}", n) for n in nations]


def may_sign_for(session: Session, user: User, request: AccessRequest, party: Party) -> bool:
    """The researcher signs for themself; any representative of a Nation for it."""
    if party.nation is None:
        return request.filed_by(user.id)
    return user.id in holder_ids(session, party.nation, Role.REPRESENTATIVE)


def party_for(
    session: Session, user: User, request: AccessRequest, signed: set[str], nation: Nation | None
) -> Party | None:
    """Which party ``user`` signs for: the researcher's place, or the named (or only
    unsigned) approving Nation they represent. None: not a party. ``signed``: the
    parties that have signed already."""
    mine = [p for p in parties_of(session, request) if may_sign_for(session, user, request, p)]
    if nation is not None:
        return next((p for p in mine if p.nation and p.nation.id == nation.id), None)
    if mine and mine[0].nation is None:
        return mine[0]
    unsigned = [p for p in mine if p.key not in signed]
    if len(unsigned) > 1:
        raise ValidationError({"nation": "You represent several Nations here: name one."})
    return (unsigned or mine or [None])[0]
