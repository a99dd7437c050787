"""Whom a role reaches, and so which requests a person may see: the object checks that
go with every Casbin grant, in one place.

The enforcer says what each role may do in a domain (a Nation, or "*"). Which requests
that is about is the role's reach (vocabulary.ROLE_REACH): its researcher's own, those
touching the Nation's data, or every submitted one. Seeing a request is the policy
action ``view``: a person sees a request when one of their roles is granted ``view``
where they hold it and reaches the request. Remove a ``view`` line and the role's
requests vanish from lists, pages, the API and the queues at once.

Each reach is said twice here, side by side and no further apart: as a test on one
request (``reaches``) and as SQL for lists (``_clause``); a test holds them together.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from portal.agreements import editions
from portal.agreements.models import Agreement
from portal.auth.models import Role, RoleMembership, User
from portal.db import TransactionCache, forget_cached
from portal.errors import Forbidden, NotFound
from portal.policy.enforcer import LoadedPolicy
from portal.policy.store import current_policy
from portal.policy.vocabulary import ROLE_REACH, WILDCARD, Action, Reach
from portal.registry.models import DatasetNation, Nation
from portal.requests.models import AccessRequest, RequestDataset, RequestStatus
from portal.requests.service import REF_PATTERN, counted_link, nations_of
from portal.reviews.models import NationTrack
from portal.reviews.service import tracks_of


@dataclass(frozen=True)
class Holding:
    """A role a person holds, where: portal-wide (nation None) or in one Nation."""

    user_id: int
    role: Role
    nation_id: int | None
    domain: str  # the Casbin domain: the Nation's slug, or "*"


# Per transaction, what the checks read again and again (a page asks available(), which
# asks authorize() for every step): each person's holdings. (Each request's Nations and
# tracks are kept by requests.service and reviews.service the same way.)
_cache = TransactionCache("portal.policy.access", (RoleMembership,))


def holdings(session: Session, user: User) -> list[Holding]:
    """The roles ``user`` holds. (A deactivated account still holds them, and sees
    what they reach; authorize() refuses it every action, as the "account" rule.)"""
    key = ("holdings", user.id)
    if (found := _cache(session).get(key)) is not None:
        return found
    rows = session.exec(
        select(RoleMembership.role, RoleMembership.nation_id, Nation.slug)
        .join(Nation, Nation.id == RoleMembership.nation_id, isouter=True)
        .where(RoleMembership.user_id == user.id)
        .order_by(RoleMembership.id)
    )
    found = [Holding(user.id, role, nation_id, slug or WILDCARD) for role, nation_id, slug in rows]
    _cache(session)[key] = found
    return found


def grants(policy: LoadedPolicy, holding: Holding, action: Action | str, domain: str) -> bool:
    """Whether the policy grants ``action`` in ``domain`` to this holding's role, and the
    holding applies there (a role held in Nation X acts only in X)."""
    if holding.domain not in (WILDCARD, domain):
        return False
    return policy.allows(holding.role.value, domain, str(action))


def current_nation_ids(session: Session, request: AccessRequest) -> set[int]:
    """The Nations whose data the request's current revision touches."""
    return {nation.id for nation in nations_of(session, request)}


def request_nation_ids(session: Session, request: AccessRequest) -> set[int]:
    """The Nations a request concerns: whose data it touches now, and any that took part
    (a Nation whose data a revision dropped keeps sight of its part: invariant 11)."""
    took_part = {track.nation_id for track, _ in tracks_of(session, request)}
    return current_nation_ids(session, request) | took_part


def reaches(holding: Holding, request: AccessRequest, nation_ids: set[int]) -> bool:
    """Whether the holding's role reaches this request (see ROLE_REACH)."""
    reach = ROLE_REACH[holding.role]
    if reach is Reach.OWN:
        return request.filed_by(holding.user_id)
    if request.status == RequestStatus.DRAFT:
        return False
    if reach is Reach.NATION:
        return holding.nation_id in nation_ids
    return True


def _clause(holding: Holding) -> sa.ColumnElement[bool]:
    """``reaches`` as SQL over AccessRequest, for lists."""
    reach = ROLE_REACH[holding.role]
    if reach is Reach.OWN:
        return AccessRequest.researcher_id == holding.user_id
    submitted = AccessRequest.status != RequestStatus.DRAFT
    if reach is Reach.NATION:
        return sa.and_(submitted, concerns_nation(holding.nation_id))
    return submitted


def concerns_nation(nation_id: int) -> sa.ColumnElement[bool]:
    """SQL over AccessRequest: the request asks for a dataset holding the Nation's data
    (one it was put: counted_link), or the Nation took part in it (a track: a revision
    that dropped its data keeps it).

    One EXISTS over a UNION ALL, not two EXISTS joined by OR: PostgreSQL turns each of
    those into a hashed subplan of every request of the Nation, built before the first
    row (27 ms for a page of a Nation in half of 100,000 requests), where this one is
    asked row by row along the page's index (0.8 ms): a page costs what it reads."""
    asks = (
        select(RequestDataset.request_id)
        .join(DatasetNation, DatasetNation.dataset_id == RequestDataset.dataset_id)
        .where(
            RequestDataset.request_id == AccessRequest.id,
            DatasetNation.nation_id == nation_id,
            counted_link(),
        )
    )
    took_part = select(NationTrack.request_id).where(
        NationTrack.request_id == AccessRequest.id, NationTrack.nation_id == nation_id
    )
    return sa.exists(sa.union_all(asks, took_part))


def _viewing(session: Session, user: User) -> list[Holding]:
    """The holdings through which ``user`` may see requests (granted ``view`` there)."""
    policy = current_policy(session)
    return [h for h in holdings(session, user) if grants(policy, h, Action.VIEW, h.domain)]


def may_view(session: Session, user: User, request: AccessRequest) -> bool:
    """Whether ``user`` may see ``request`` (``visible_clause`` for one request)."""
    viewing = _viewing(session, user)
    if not viewing:
        return False
    nation_ids = request_nation_ids(session, request)
    return any(reaches(holding, request, nation_ids) for holding in viewing)


def may_read_agreement(
    session: Session, user: User, request: AccessRequest, agreement: Agreement | None = None
) -> bool:
    """Whether ``user`` reads the request's agreement (``agreement``: that edition; by
    default the current one): as one who sees the request through a role that reaches
    it for the edition's Nations. A Nation whose data a revision dropped keeps sight of
    the request, but is no party to a later edition (invariant 11); it reads the ones it
    signed."""
    return reaches_for(session, user, request, _edition_nation_ids(session, request, agreement))


def reaches_for(session: Session, user: User, request: AccessRequest, nation_ids: set[int]) -> bool:
    """Whether ``user`` sees ``request`` through a role that reaches it for ``nation_ids``:
    a part of the request only some of its Nations are party to (an agreement's edition,
    an output), which a Nation whose part ended before it does not read."""
    return any(reaches(holding, request, nation_ids) for holding in _viewing(session, user))


def _edition_nation_ids(
    session: Session, request: AccessRequest, agreement: Agreement | None
) -> set[int]:
    """An edition's Nations: who signed it once it took effect, else (being signed, or
    none yet) the Nations whose data the current revision touches."""
    agreement = agreement or editions.current(session, request)
    if agreement is not None and agreement.effective_at is not None:
        return {nation.id for nation in editions.signing_nations(session, agreement)}
    return current_nation_ids(session, request)


def require_agreement_reader(
    session: Session, user: User, request: AccessRequest, agreement: Agreement | None = None
) -> None:
    if not may_read_agreement(session, user, request, agreement):
        raise Forbidden(
            "The agreement is its parties': your Nation's part in this request ended when a "
            "revision dropped its data."
        )


def visible_clause(session: Session, user: User) -> sa.ColumnElement[bool]:
    """SQL: the requests ``user`` may see."""
    clauses = [_clause(holding) for holding in _viewing(session, user)]
    return sa.or_(*clauses) if clauses else sa.false()


def visible_requests(
    session: Session,
    user: User,
    status: RequestStatus | None = None,
    limit: int = 200,
    before: tuple[datetime, int] | None = None,
) -> list[AccessRequest]:
    """What ``user`` may see, most recently changed first. ``before`` (updated_at, id) of
    the last request of a previous page continues after it (keyset pagination)."""
    query = select(AccessRequest).where(visible_clause(session, user))
    if status is not None:
        query = query.where(AccessRequest.status == status)
    if before is not None:
        updated_at, request_id = before
        query = query.where(
            sa.or_(
                AccessRequest.updated_at < updated_at,
                sa.and_(AccessRequest.updated_at == updated_at, AccessRequest.id < request_id),
            )
        )
    query = query.order_by(AccessRequest.updated_at.desc(), AccessRequest.id.desc()).limit(limit)
    return list(session.exec(query))


def get_visible(
    session: Session, user: User, ref: str, *, for_update: bool = False
) -> AccessRequest:
    """The request ``ref`` if ``user`` may see it; otherwise NotFound, never a hint
    that it exists. ``for_update`` locks the row for a transition (PostgreSQL)."""
    if not REF_PATTERN.fullmatch(ref):  # not a reference at all: nothing to look up
        raise NotFound(f"no request {ref!r}")
    query = select(AccessRequest).where(AccessRequest.ref == ref, visible_clause(session, user))
    if for_update:
        query = query.with_for_update(of=AccessRequest)
        forget_cached(session)  # read after the lock: what committed before it counts
    request = session.exec(query).first()
    if request is None:
        raise NotFound(f"no request {ref}")
    return request


def holders_reaching(
    session: Session, request: AccessRequest, action: Action | str, nation: Nation | None
) -> list[User]:
    """The active people whose roles are granted ``action`` (in ``nation``, or portal-
    wide) and reach ``request``: who could be asked to act, or told, about it."""
    policy = current_policy(session)
    domain = nation.slug if nation else WILDCARD
    roles = {Role(role) for role, _ in policy.grants_in(domain, str(action))}
    nation_ids = request_nation_ids(session, request)
    narrowing = []  # the reach of each role, so a researcher's grant asks for one person
    for role in roles:
        reach = ROLE_REACH[role]
        if reach is Reach.OWN:
            narrowing.append(
                sa.and_(
                    RoleMembership.role == role, RoleMembership.user_id == request.researcher_id
                )
            )
        elif reach is Reach.NATION:
            narrowing.append(
                sa.and_(RoleMembership.role == role, RoleMembership.nation_id.in_(nation_ids))
            )
        else:
            narrowing.append(RoleMembership.role == role)
    if not narrowing:
        return []
    rows = session.exec(
        select(User, RoleMembership.role, RoleMembership.nation_id, Nation.slug)
        .join(RoleMembership, RoleMembership.user_id == User.id)
        .join(Nation, Nation.id == RoleMembership.nation_id, isouter=True)
        .where(User.active, sa.or_(*narrowing))
        .order_by(User.id)
    )
    found: dict[int, User] = {}
    for user, role, nation_id, slug in rows:
        holding = Holding(user.id, role, nation_id, slug or WILDCARD)
        if grants(policy, holding, action, domain) and reaches(holding, request, nation_ids):
            found[user.id] = user
    return list(found.values())
