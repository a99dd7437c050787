"""A Nation's governance profile and its stewards, as its representative keeps them.

Every function asks the policy first (manage_profile in the Nation's domain), so
only that Nation's representative changes them. Flush, never commit. The profile
is read from the Nation row by every check, so a change holds for the next
request in every worker; steward changes bump the policy version (auth.service).
"""

from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import Role, RoleMembership, User
from portal.auth.service import find_membership, find_user, grant_role, normalise_email
from portal.auth.service import revoke_role as revoke
from portal.db import utcnow
from portal.errors import Conflict, ValidationError
from portal.policy.service import require
from portal.policy.vocabulary import Action
from portal.registry.models import REMINDER_FIELDS, Nation
from portal.registry.names import NAME_FIELDS, check_names
from portal.registry.service import check_profile

LONGEST_REMINDER_DAYS = 365
PROFILE_FIELDS = (
    "review_quorum",
    "min_approvals",
    "residency",
    "max_term_days",
    "output_review_required",
    "small_cell_threshold",
    *REMINDER_FIELDS,
    "attestation_due_days",
    *NAME_FIELDS,  # its names in French and in its own language: its own to give
)
_WHOLE_NUMBERS = ("review_quorum", "min_approvals", "small_cell_threshold", "attestation_due_days")
MAX_ATTESTATION_DAYS = 365


def _check_types(changes: dict[str, Any]) -> dict[str, str]:
    errors = {
        name: _("Not a governance profile setting.")
        for name in changes
        if name not in PROFILE_FIELDS
    }
    for name in _WHOLE_NUMBERS:
        if name in changes and (
            isinstance(changes[name], bool) or not isinstance(changes[name], int)
        ):
            errors[name] = _("Must be a whole number.")
    days = changes.get("max_term_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)):
        errors["max_term_days"] = _("Must be a whole number of days, or empty for no limit.")
    if "output_review_required" in changes and not isinstance(
        changes["output_review_required"], bool
    ):
        errors["output_review_required"] = _("Must be yes or no.")
    for name in REMINDER_FIELDS:
        days = changes.get(name)
        if days is not None and (
            isinstance(days, bool)
            or not isinstance(days, int)
            or not 1 <= days <= LONGEST_REMINDER_DAYS
        ):
            errors[name] = _(
                "Must be a whole number of days from 1 to %(most)s, or empty for no reminders.",
                most=LONGEST_REMINDER_DAYS,
            )
    for name in NAME_FIELDS:
        if not isinstance(changes.get(name, ""), str):
            errors[name] = _("Must be text.")
    codes = changes.get("residency", [])
    if isinstance(codes, str) or not all(isinstance(code, str) for code in codes):
        errors["residency"] = _("Must be a list of ISO 3166 codes such as CA or CA-ON.")
    return errors


def update_profile(
    session: Session, actor: User, nation: Nation, **changes: Any
) -> dict[str, tuple[Any, Any]]:
    """Change the profile settings given; returns {setting: (old, new)} for those that changed."""
    require(session, actor, Action.MANAGE_PROFILE, nation=nation)
    if errors := _check_types(changes):
        raise ValidationError(errors)
    merged = {name: changes.get(name, getattr(nation, name)) for name in PROFILE_FIELDS}
    errors, merged["residency"] = check_profile(
        merged["review_quorum"],
        merged["min_approvals"],
        merged["residency"],
        merged["max_term_days"],
        merged["small_cell_threshold"],
    )
    if not 1 <= merged["attestation_due_days"] <= MAX_ATTESTATION_DAYS:
        errors["attestation_due_days"] = _(
            "The days to attest destruction must be between 1 and %(most)s.",
            most=MAX_ATTESTATION_DAYS,
        )
    merged |= check_names(errors, *(merged[name] for name in NAME_FIELDS))
    if errors:
        raise ValidationError(errors)
    changed = {
        name: (getattr(nation, name), merged[name])
        for name in PROFILE_FIELDS
        if getattr(nation, name) != merged[name]
    }
    if not changed:
        return {}
    for name, (_old, new) in changed.items():
        setattr(nation, name, new)
    nation.updated_at = utcnow()
    session.add(nation)
    session.flush()
    record_event(
        session,
        action=EventType.NATION_PROFILE_CHANGED,
        actor=actor,
        nations=[nation],
        details={name: [old, new] for name, (old, new) in changed.items()},
    )
    return changed


def designate_steward(session: Session, actor: User, nation: Nation, email: str) -> User:
    """Make the person with this e-mail address a steward of the Nation."""
    require(session, actor, Action.MANAGE_PROFILE, nation=nation)
    address = normalise_email(email)
    user = find_user(session, address)
    if user is None or not user.active:
        raise ValidationError(
            {
                "email": _(
                    "No active account uses %(address)s: the person needs a login first.",
                    address=address,
                )
            }
        )
    if find_membership(session, user, Role.STEWARD, nation) is not None:
        raise Conflict(
            _("%(name)s is already a steward of %(nation)s.", name=user.name, nation=nation.name)
        )
    grant_role(session, user, Role.STEWARD, nation, actor=actor)  # audited as role.granted
    return user


def remove_steward(session: Session, actor: User, nation: Nation, user: User) -> None:
    """End the person's designation as a steward of the Nation (NotFound if they are none)."""
    require(session, actor, Action.MANAGE_PROFILE, nation=nation)
    revoke(session, user, Role.STEWARD, nation, actor=actor)  # audited as role.revoked


def people_in_role(session: Session, nation: Nation, role: Role) -> list[User]:
    return list(
        session.exec(
            select(User)
            .join(RoleMembership, RoleMembership.user_id == User.id)
            .where(RoleMembership.nation_id == nation.id, RoleMembership.role == role)
            .order_by(User.name)
        )
    )
