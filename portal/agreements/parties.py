"""Who signs an agreement: the researcher, and one representative for each Nation that
approved (a later revocation does not unmake the approval: that Nation stays a party).

Once an edition took effect, its parties are those who signed it: while a renewal or
amendment is reviewed afresh (the tracks move again), access continues under the edition
in force and with its Nations (``approving_nations``); the edition being signed is the
current revision's approvers' (``approved_now``, ``parties_of``)."""

from dataclasses import dataclass

from sqlmodel import Session

from portal.agreements import editions
from portal.auth.models import Role, User
from portal.errors import ValidationError
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.requests.service import nations_of
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


def approved_now(session: Session, request: AccessRequest, also: int | None = None) -> list[Nation]:
    """The Nations whose track approved the current revision, revoked approvals included;
    with ``also``, that Nation's too (the approval being made, not yet written: the
    agreement rendered ahead of it, portal/agreements/service.draft)."""
    approved = (TrackStatus.APPROVED, TrackStatus.REVOKED)
    return [n for t, n in tracks_of(session, request) if t.status in approved or n.id == also]


def approving_nations(session: Session, request: AccessRequest) -> list[Nation]:
    """The Nations party to the access: those that signed the edition in force (or last
    in force), else those that approved the current revision."""
    agreement = editions.current(session, request)
    if agreement is not None and agreement.effective_at is not None:
        return editions.signing_nations(session, agreement)
    return approved_now(session, request)


def nations_concerned(session: Session, request: AccessRequest) -> list[Nation]:
    """The Nations a command may name: whose data the request's fields touch, and the
    parties of the access in force (while an amendment drafts a revision that drops a
    Nation's data, that Nation still revokes, reviews outputs and talks for it)."""
    found = nations_of(session, request)
    known = {nation.id for nation in found}
    return found + [n for n in approving_nations(session, request) if n.id not in known]


def parties_of(session: Session, request: AccessRequest, also: int | None = None) -> list[Party]:
    """The parties of the edition being signed (the current revision's approvers, with
    ``also`` as in approved_now)."""
    nations = approved_now(session, request, also)
    return [Party(RESEARCHER, None)] + [Party(f"nation:{n.id}", n) for n in nations]


def parties_of_edition(
    session: Session, request: AccessRequest, agreement, also: int | None = None
) -> list[Party]:
    """The parties of ``agreement``: who signed it once it took effect, else who signs it."""
    if agreement.effective_at is None:
        return parties_of(session, request, also)
    nations = editions.signing_nations(session, agreement)
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
