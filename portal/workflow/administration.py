"""The administrators' steps: people (manage_users) and the registry (manage_registry).

Every function asks the policy first. Administrators grant and take away portal-wide
roles only; a Nation's stewards and representatives are the Nation's own to choose
(its governance profile and invitations; an administrator appoints only a Nation's
first representative, by invitation). They register a Nation, but its governance
profile is then the Nation's own (manage_profile is reserved to its representatives),
and they never decide for it (invariant 1). People are deactivated, never deleted:
the record keeps who did what. Flush, never commit.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlmodel import Session

from portal.auth.accounts import set_active
from portal.auth.models import NATION_ROLES, Role, User
from portal.auth.service import (
    find_membership,
    grant_role,
    revoke_role,
    roles_of_each,
    search_users,
)
from portal.errors import Conflict, NotFound, ValidationError
from portal.policy import membership
from portal.policy.service import require
from portal.policy.vocabulary import Action
from portal.registry import service as registry
from portal.registry.models import Dataset, Framework, Nation

PORTAL_ROLES = tuple(role for role in Role if role not in NATION_ROLES)


PEOPLE_PAGE = 200


@dataclass(frozen=True)
class People:
    rows: list[tuple[User, list]]  # each person and their roles
    next_cursor: int | None  # the id of the person the next page goes on after


def people(session: Session, actor: User, query: str = "", after: str | None = None) -> People:
    """People whose name or e-mail address contains ``query``, with their roles, a page
    at a time, by name; ``after`` the id of the last person of the previous page."""
    require(session, actor, Action.MANAGE_USERS)
    last = None
    if after:
        last = session.get(User, int(after)) if after.isdigit() else None
        if last is None:
            raise ValidationError({"after": _("%(after)s is not a person's number.", after=after)})
    found = search_users(session, query, PEOPLE_PAGE + 1, after=last)
    page = found[:PEOPLE_PAGE]
    roles = roles_of_each(session, page)
    more = len(found) > PEOPLE_PAGE
    return People([(user, roles[user.id]) for user in page], page[-1].id if more else None)


def person(session: Session, actor: User, user_id: int) -> User:
    require(session, actor, Action.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("no such person"))
    return user


def _portal_role(role: str) -> Role:
    try:
        found = Role(role)
    except ValueError:
        found = None
    if found not in PORTAL_ROLES:
        raise ValidationError(
            {
                "role": _(
                    "Choose researcher, coordinator or admin: a Nation's stewards and "
                    "representatives are the Nation's to choose."
                )
            }
        )
    return found


def grant_portal_role(session: Session, actor: User, user: User, role: str) -> bool:
    """Give ``user`` a portal-wide role; False if they hold it already."""
    require(session, actor, Action.MANAGE_USERS)
    role = _portal_role(role)
    if find_membership(session, user, role, None) is not None:
        return False
    grant_role(session, user, role, actor=actor)
    return True


def revoke_portal_role(session: Session, actor: User, user: User, role: str) -> None:
    """Take a portal-wide role away (NotFound if they do not hold it)."""
    require(session, actor, Action.MANAGE_USERS)
    role = _portal_role(role)
    if user.id == actor.id and role == Role.ADMIN:
        raise Conflict(_("You cannot take away your own administrator role: ask another one."))
    revoke_role(session, user, role, actor=actor)


def set_person_active(session: Session, actor: User, user: User, active: bool) -> bool:
    """Deactivate or reactivate a login; returns whether anything changed."""
    require(session, actor, Action.MANAGE_USERS)
    if user.id == actor.id and not active:
        raise Conflict(_("You cannot deactivate your own login: ask another administrator."))
    return set_active(session, user, active, actor=actor)


def register_nation(
    session: Session, actor: User, slug: str, name: str, framework: Framework | str
) -> Nation:
    """Register a Nation with the default governance profile, which is its own to set
    from then on (its representative, on the profile page). It joins the member Nations
    when they admit it (portal/policy/membership.py)."""
    require(session, actor, Action.MANAGE_REGISTRY)
    return membership.register_nation(session, actor, slug, name, framework)


def register_dataset(
    session: Session,
    actor: User,
    slug: str,
    title: str,
    custodian: str,
    nation_slugs: Iterable[str],
    description: str = "",
    names: dict[str, str] | None = None,
) -> Dataset:
    require(session, actor, Action.MANAGE_REGISTRY)
    return registry.create_dataset(
        session, slug, title, custodian, nation_slugs, description, names=names, actor=actor
    )


def change_dataset(
    session: Session,
    actor: User,
    dataset: Dataset,
    *,
    title: str,
    custodian: str,
    description: str,
    nation_slugs: Iterable[str],
    names: dict[str, str] | None = None,
) -> dict:
    require(session, actor, Action.MANAGE_REGISTRY)
    return registry.update_dataset(
        session,
        dataset,
        title=title,
        custodian=custodian,
        description=description,
        nation_slugs=nation_slugs,
        names=names,
        actor=actor,
    )


def registry_datasets(session: Session, actor: User) -> list[tuple[Dataset, list[Nation]]]:
    require(session, actor, Action.MANAGE_REGISTRY)
    return registry.list_datasets(session)


def registry_nations(session: Session, actor: User) -> list[Nation]:
    require(session, actor, Action.MANAGE_REGISTRY)
    return registry.list_nations(session)
