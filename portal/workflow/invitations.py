"""Invitations: a role offered by e-mail, taken up through a link that works once.

Who may invite whom is the policy's to say:

- ``invite`` (portal-wide; administrators): a researcher, coordinator or administrator,
  and a Nation's *first* representative, only while the Nation has none. Appointing
  that first representative gives the Nation its voice; it decides nothing for the
  Nation (invariant 1), and from then on the Nation's own representatives invite.
- ``invite_member`` (in a Nation; its representatives, RESERVED_ACTIONS): the Nation's
  stewards and other representatives.

The link's token is shown once to the inviter and mailed; only its SHA-256 is kept.
It expires after INVITATION_DAYS, can be revoked until used, and is refused after
use. On acceptance the inviter's authority is asked again, so an invitation made by
someone who since lost the role, or a second "first" representative, grants nothing.
Stewards designated this way count toward a quorum by the usual rules
(``counting_steward_ids`` in portal/reviews/service.py). Flush, never commit.
"""

import secrets
from collections.abc import Callable
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import NATION_ROLES, Invitation, Role, RoleMembership, User
from portal.auth.service import (
    create_user,
    find_membership,
    find_user,
    grant_role,
    hash_token,
    keep_apart,
    normalise_email,
)
from portal.db import utcnow
from portal.errors import Conflict, Forbidden, NotFound, Refused, ServiceError, ValidationError
from portal.notify.service import Address, queue
from portal.policy.service import authorize, require
from portal.policy.vocabulary import Action
from portal.registry.models import Nation

INVITATION_DAYS = 7
PORTAL_ROLES = (Role.RESEARCHER, Role.COORDINATOR, Role.ADMIN)
MEMBER_ROLES = (Role.STEWARD, Role.REPRESENTATIVE)

# Why a link no longer works, as its page says it.
UNUSABLE = {
    "expired": _l("This invitation has expired. Ask the person who invited you for a new one."),
    "accepted": _l(
        "This invitation has been used already: each link works once. If it was you, sign in."
    ),
    "revoked": _l("This invitation was withdrawn by the people who sent it."),
}
# An invitation's state, in a sentence ("it is expired").
STATE_WORDS = {"expired": _l("expired"), "accepted": _l("accepted"), "revoked": _l("revoked")}


class InvitationUnusable(ServiceError):
    """The link is known but no longer works: expired, used or revoked."""

    def __init__(self, reason: str) -> None:
        super().__init__(str(UNUSABLE[reason]))
        self.reason = reason


def role_words(role: Role, nation: Nation | None) -> str:
    """ "a coordinator", "a steward of Red Cedar Nation"."""
    if nation is None:
        return {
            Role.RESEARCHER: _("a researcher"),
            Role.COORDINATOR: _("a coordinator"),
            Role.ADMIN: _("an admin"),
            Role.STEWARD: _("a steward"),
            Role.REPRESENTATIVE: _("a representative"),
        }[role]
    return {
        Role.RESEARCHER: _("a researcher of %(nation)s", nation=nation.name),
        Role.COORDINATOR: _("a coordinator of %(nation)s", nation=nation.name),
        Role.ADMIN: _("an admin of %(nation)s", nation=nation.name),
        Role.STEWARD: _("a steward of %(nation)s", nation=nation.name),
        Role.REPRESENTATIVE: _("a representative of %(nation)s", nation=nation.name),
    }[role]


def _capital(role: Role) -> str:
    """ "A coordinator": the role's words at the head of a sentence."""
    words = role_words(role, None)
    return words[:1].upper() + words[1:]


def _has_representative(session: Session, nation: Nation) -> bool:
    query = select(RoleMembership.id).where(
        RoleMembership.nation_id == nation.id, RoleMembership.role == Role.REPRESENTATIVE
    )
    return session.exec(query).first() is not None


def authority_for(session: Session, actor: User, role: Role | str, nation: Nation | None) -> Action:
    """The policy action under which ``actor`` may invite someone as ``role`` (of
    ``nation``); Forbidden (403) or Refused (409) if they may not."""
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError({"role": _("Choose a role.")}) from None
    if role not in NATION_ROLES:
        if nation is not None:
            raise ValidationError(
                {"nation": _("%(role)s acts portal-wide, not for one Nation.", role=_capital(role))}
            )
        require(session, actor, Action.INVITE)
        return Action.INVITE
    if nation is None:
        raise ValidationError(
            {"nation": _("%(role)s acts for one Nation: choose it.", role=_capital(role))}
        )
    if authorize(session, actor, Action.INVITE_MEMBER, nation=nation).allowed:
        return Action.INVITE_MEMBER
    if role == Role.REPRESENTATIVE and authorize(session, actor, Action.INVITE).allowed:
        # The first representative only: after that, the Nation's own choose (invariant 1).
        if _has_representative(session, nation):
            raise Refused(
                _(
                    "%(nation)s has a representative: its own representatives invite the others.",
                    nation=nation.name,
                )
            )
        return Action.INVITE
    if role == Role.STEWARD and authorize(session, actor, Action.INVITE).allowed:
        raise Forbidden(
            _("Only a representative of %(nation)s may invite its stewards.", nation=nation.name)
        )
    require(session, actor, Action.INVITE_MEMBER, nation=nation)
    raise AssertionError("unreachable: require() refused")  # pragma: no cover


def invite(
    session: Session,
    actor: User,
    email: str,
    role: Role | str,
    nation: Nation | None,
    *,
    link_for: Callable[[str], str],
) -> tuple[str, Invitation]:
    """Invite the person with this address: returns the link's token (shown once) and
    the invitation. ``link_for`` turns the token into the link mailed to them."""
    authority = authority_for(session, actor, role, nation)
    role = Role(role)
    address = normalise_email(email)
    existing = find_user(session, address)
    if existing is not None:  # said now, not only when the link is used
        keep_apart(session, existing, role)
    if existing is not None and find_membership(session, existing, role, nation) is not None:
        raise Conflict(
            _(
                "%(name)s (%(address)s) is %(role)s already.",
                name=existing.name,
                address=address,
                role=role_words(role, nation),
            )
        )
    in_nation = (
        Invitation.nation_id == nation.id if nation is not None else Invitation.nation_id.is_(None)
    )
    now = utcnow()
    waiting = session.exec(
        select(Invitation).where(
            Invitation.email == address,
            Invitation.role == role,
            in_nation,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    ).first()
    if waiting is not None:
        raise Conflict(
            _(
                "%(address)s is invited as %(role)s already: revoke that "
                "invitation to send a new one.",
                address=address,
                role=role_words(role, nation),
            )
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=address,
        role=role,
        nation_id=nation.id if nation else None,
        authority=authority.value,
        token_hash=hash_token(token),
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    session.flush()
    _event(session, EventType.INVITATION_SENT, actor, invitation, nation)
    queue(
        session,
        [Address(address)],
        "invitation",
        invitation=invitation,
        inviter=actor,
        role_words=role_words(role, nation),
        link=link_for(token),
    )
    return token, invitation


def _event(
    session: Session,
    kind: EventType,
    actor: User | None,
    invitation: Invitation,
    nation: Nation | None,
    **details,
) -> None:
    record_event(
        session,
        action=kind,
        actor=actor,
        nations=[nation] if nation else [],
        details={
            "invitation_id": invitation.id,
            "email": invitation.email,
            "role": invitation.role.value,
            "nation": nation.slug if nation else None,
            **details,
        },
    )


def nation_of(session: Session, invitation: Invitation) -> Nation | None:
    return session.get(Nation, invitation.nation_id) if invitation.nation_id else None


def inviter_of(session: Session, invitation: Invitation) -> User:
    return session.get(User, invitation.invited_by_id)


def find(session: Session, token: str, *, lock: bool = False) -> Invitation:
    """The invitation this link's token opens (NotFound for none: a mistyped link)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise NotFound("no such invitation")
    query = select(Invitation).where(Invitation.token_hash == hash_token(token))
    invitation = session.exec(query.with_for_update() if lock else query).first()
    if invitation is None:
        raise NotFound("no such invitation")
    return invitation


def check_usable(invitation: Invitation) -> None:
    """InvitationUnusable unless the link still works."""
    state = invitation.state(utcnow())
    if state != "pending":
        raise InvitationUnusable(state)


def record_refused_use(session: Session, invitation_id: int, reason: str) -> None:
    """Someone opened a link that no longer works: the record says so. (The page that
    refuses it answers with an error status, so it writes this in a transaction of
    its own.)"""
    invitation = session.get(Invitation, invitation_id)
    nation = nation_of(session, invitation)
    _event(session, EventType.INVITATION_REFUSED, None, invitation, nation, reason=reason)


def _still_authorised(session: Session, invitation: Invitation, nation: Nation | None) -> None:
    """The inviter may still make this invitation: else it grants nothing (409)."""
    inviter = inviter_of(session, invitation)
    try:
        authority_for(session, inviter, invitation.role, nation)
    except (Forbidden, Refused) as refusal:
        raise Refused(
            _(
                "The person who invited you may no longer offer this role, so the invitation "
                "grants nothing (%(why)s) Ask for a new invitation.",
                why=refusal.message,
            )
        ) from None


def _accept(session: Session, invitation: Invitation, user: User, nation: Nation | None) -> None:
    inviter = inviter_of(session, invitation)
    # The role is the inviter's grant (their authority was asked again just now).
    grant_role(session, user, invitation.role, nation, actor=inviter)
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    session.add(invitation)
    session.flush()
    _event(session, EventType.INVITATION_ACCEPTED, user, invitation, nation)


def accept_as_new(session: Session, token: str, name: str, password: str) -> User:
    """Accept by creating the login the invitation is addressed to (name and password
    chosen now); Conflict when a login uses the address already (sign in instead)."""
    invitation = find(session, token, lock=True)
    check_usable(invitation)
    if find_user(session, invitation.email) is not None:
        raise Conflict(_("A login uses this e-mail address already: sign in to accept."))
    nation = nation_of(session, invitation)
    _still_authorised(session, invitation, nation)
    user = create_user(session, invitation.email, name, password)
    _accept(session, invitation, user, nation)
    return user


def accept_as(session: Session, user: User, token: str) -> Invitation:
    """Accept as the signed-in ``user``, whose address the invitation must be for."""
    invitation = find(session, token, lock=True)
    check_usable(invitation)
    if user.email != invitation.email:
        raise Forbidden(
            _(
                "This invitation is addressed to another e-mail address than your login's. "
                "Sign out, then open the link again."
            )
        )
    if not user.active:
        raise Forbidden(_("This account is deactivated."))
    nation = nation_of(session, invitation)
    _still_authorised(session, invitation, nation)
    _accept(session, invitation, user, nation)
    return invitation


def _may_manage(session: Session, actor: User, invitation: Invitation, nation: Nation | None):
    """Whoever may make such an invitation under its authority may withdraw it."""
    if invitation.authority == Action.INVITE_MEMBER.value:
        require(session, actor, Action.INVITE_MEMBER, nation=nation)
    else:
        require(session, actor, Action.INVITE)


def revoke(session: Session, actor: User, invitation_id: int) -> Invitation:
    """Withdraw an invitation before it is used: its link stops working at once."""
    invitation = session.exec(
        select(Invitation).where(Invitation.id == invitation_id).with_for_update()
    ).first()
    if invitation is None:
        raise NotFound("no such invitation")
    nation = nation_of(session, invitation)
    _may_manage(session, actor, invitation, nation)
    state = invitation.state(utcnow())
    if state != "pending":
        raise Refused(
            _("This invitation cannot be revoked: it is %(state)s.", state=STATE_WORDS[state])
        )
    invitation.revoked_at = utcnow()
    invitation.revoked_by_id = actor.id
    session.add(invitation)
    session.flush()
    _event(session, EventType.INVITATION_REVOKED, actor, invitation, nation)
    return invitation


def invitations_of_nation(session: Session, actor: User, nation: Nation) -> list[Invitation]:
    """A Nation's invitations made by its representatives, newest first."""
    require(session, actor, Action.INVITE_MEMBER, nation=nation)
    return list(
        session.exec(
            select(Invitation)
            .where(
                Invitation.nation_id == nation.id,
                Invitation.authority == Action.INVITE_MEMBER.value,
            )
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
            .limit(200)
        )
    )


def portal_invitations(session: Session, actor: User) -> list[tuple[Invitation, Nation | None]]:
    """The invitations administrators made, newest first, with their Nation if any."""
    require(session, actor, Action.INVITE)
    rows = session.exec(
        select(Invitation, Nation)
        .join(Nation, Nation.id == Invitation.nation_id, isouter=True)
        .where(Invitation.authority == Action.INVITE.value)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        .limit(200)
    ).all()
    return [(invitation, nation) for invitation, nation in rows]


def nations_without_representative(session: Session) -> list[Nation]:
    """The Nations an administrator may appoint a first representative for."""
    has = select(RoleMembership.nation_id).where(RoleMembership.role == Role.REPRESENTATIVE)
    return list(session.exec(select(Nation).where(Nation.id.not_in(has)).order_by(Nation.name)))
