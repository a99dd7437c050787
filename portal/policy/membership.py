"""Who the member Nations are, and how a Nation becomes one.

The member Nations answer changes to the portal-wide rules (portal/workflow/proposals.py).
The portal is governed by its members, so its administrators, who register Nations, do
not make members: a Nation registered while no member has a representative to answer
(the founding Nations, when the portal is set up) is a member at once; any other joins
when the members approve its admission, a proposal like a change to the rules, opened
when it is registered. Membership is about the portal-wide rules only: a Nation waiting
for admission, or refused it, decides on its own data all the same (invariant 1).

Every adapter registers a Nation through ``register_nation`` (the administration's
page and API, `portal nations create`). Flush, never commit.
"""

from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import User
from portal.db import utcnow
from portal.errors import ValidationError
from portal.policy.models import Proposal, ProposalStatus
from portal.policy.proposing import ADMIT, candidates, electorate, make_proposal, members
from portal.registry import service as registry
from portal.registry.models import Framework, Nation


def register_nation(
    session: Session, actor: User | None, slug: str, name: str, framework: Framework | str,
    **profile: Any,
) -> Nation:  # fmt: skip
    """Register a Nation: a member at once if no member could answer its admission,
    else waiting for the members, who are asked at once (a proposal)."""
    founding = not electorate(session)
    nation = registry.create_nation(
        session, slug, name, framework, actor=actor, admitted=founding, **profile
    )
    if not founding:
        propose_admission(session, actor, nation)
    return nation


def propose_admission(session: Session, actor: User | None, nation: Nation) -> Proposal:
    """Put ``nation``'s admission to the members."""
    check_admission(session, {ADMIT: [nation.slug]})
    title = _("Admit %(nation)s as a member Nation", nation=nation.name)
    return make_proposal(session, actor, None, title, "", {ADMIT: [nation.slug]})


def check_admission(session: Session, changes: Any) -> list[Nation]:
    """The Nations an admission proposal would admit; ValidationError (422, on
    ``changes``) when it is not one: an admission changes nothing else, and names
    registered Nations that are not members and not already put to the members."""
    slugs = changes.get(ADMIT) if isinstance(changes, dict) else None
    if not isinstance(slugs, list) or not slugs or set(changes) != {ADMIT}:
        raise ValidationError(
            {"changes": _("An admission names the Nations to admit, and changes nothing else.")}
        )
    nations = []
    for slug in slugs:
        if not isinstance(slug, str):
            raise ValidationError({"changes": _("Name each Nation to admit by its slug.")})
        nation = session.exec(select(Nation).where(Nation.slug == slug)).first()
        if nation is None:
            raise ValidationError(
                {"changes": _("%(slug)s is no registered Nation.", slug=repr(slug))}
            )
        if nation.admitted_at is not None:
            raise ValidationError(
                {"changes": _("%(nation)s is a member Nation already.", nation=nation.name)}
            )
        if _admission_open(session, nation):
            raise ValidationError(
                {
                    "changes": _(
                        "The members are deciding on %(nation)s's admission already.",
                        nation=nation.name,
                    )
                }
            )
        nations.append(nation)
    return nations


def _admission_open(session: Session, nation: Nation) -> bool:
    query = select(Proposal).where(Proposal.status == ProposalStatus.OPEN)
    return any(nation.slug in (p.changes.get(ADMIT) or []) for p in session.exec(query))


def is_admission(proposal: Proposal) -> bool:
    return ADMIT in proposal.changes


def admit(session: Session, proposal: Proposal) -> list[Nation]:
    """Apply an approved admission: its Nations are members from now on, and answer the
    proposals made from now on (an open one keeps the electorate it was made with)."""
    nations = [nation for nation in candidates(session, proposal) if nation.admitted_at is None]
    for nation in nations:
        nation.admitted_at = utcnow()
        session.add(nation)
    session.flush()
    record_event(
        session,
        action=EventType.NATION_ADMITTED,
        actor=None,
        nations=members(session),
        details={"proposal": proposal.id, "admitted": [nation.slug for nation in nations]},
    )
    return nations
