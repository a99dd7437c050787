"""Access requests: drafts, snapshots and who may see what. Flush, never commit.

The workflow's transitions (submit, screen, review, decide, ...) are in workflow.py.
"""

import re
import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from portal.audit.service import record_event
from portal.auth.models import Role, RoleMembership, User
from portal.db import utcnow
from portal.errors import BlockingRule, Forbidden, NotFound, Refused
from portal.policy.service import authorize
from portal.policy.vocabulary import Action
from portal.registry.models import Dataset, DatasetNation, Nation
from portal.requests import fields as request_fields
from portal.requests.models import (
    AccessRequest,
    RequestDataset,
    RequestRevision,
    RequestStatus,
)

# Crockford's base32 without look-alikes (no I, L, O, U): easy to read out on a phone.
_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REF_PATTERN = re.compile(f"R-[{_REF_ALPHABET}]{{4}}-[{_REF_ALPHABET}]{{4}}")
EDITABLE = (RequestStatus.DRAFT, RequestStatus.CHANGES_REQUESTED)


def new_ref() -> str:
    chars = "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))
    return f"R-{chars[:4]}-{chars[4:]}"


def _require(session: Session, user: User, action: Action) -> None:
    """May ``user`` do this portal-wide action? Not by role: Forbidden (403); a
    condition the policy attaches does not hold: Refused (409)."""
    decision = authorize(session, user, action)
    if decision.allowed:
        return
    if forbidden := decision.forbidden_by:
        raise Forbidden(forbidden.message)
    raise Refused(" ".join(rule.message for rule in decision.blocked_by), decision.blocked_by)


def create_draft(session: Session, researcher: User, fields: dict[str, Any]) -> AccessRequest:
    _require(session, researcher, Action.CREATE)
    values, datasets = request_fields.clean(session, fields)
    request = AccessRequest(ref=new_ref(), researcher_id=researcher.id, **values)
    session.add(request)
    session.flush()
    _set_datasets(session, request, datasets or [])
    record_event(session, action="request.created", actor=researcher, request=request)
    return request


def update_draft(
    session: Session, user: User, request: AccessRequest, fields: dict[str, Any]
) -> AccessRequest:
    """Change the fields given; only the researcher, only in draft or changes requested.
    ``request`` comes from get_visible(), so the person may know of it: Forbidden, not NotFound."""
    if request.researcher_id != user.id:
        raise Forbidden("Only the researcher who filed this request may edit it.")
    _require(session, user, Action.EDIT)
    if request.status not in EDITABLE:
        message = (
            f"A request that is {request.status.label.lower()} cannot be edited; "
            "only drafts and requests returned for changes can."
        )
        raise Refused(message, [BlockingRule("state", message)])
    values, datasets = request_fields.clean(session, fields)
    before = snapshot(session, request)
    for name, value in values.items():
        setattr(request, name, value)
    if datasets is not None:
        _set_datasets(session, request, datasets)
    changed = [name for name, *_ in request_fields.diff(before, snapshot(session, request))]
    if not changed:
        return request
    request.updated_at = utcnow()
    session.add(request)
    # Which fields changed, not their text: a draft's content is the researcher's own.
    record_event(
        session, action="request.edited", actor=user, request=request, details={"fields": changed}
    )
    session.flush()
    return request


def _set_datasets(session: Session, request: AccessRequest, datasets: list[Dataset]) -> None:
    existing = session.exec(
        select(RequestDataset).where(RequestDataset.request_id == request.id)
    ).all()
    wanted = {dataset.id for dataset in datasets}
    for link in existing:
        if link.dataset_id not in wanted:
            session.delete(link)
    have = {link.dataset_id for link in existing}
    for dataset_id in wanted - have:
        session.add(RequestDataset(request_id=request.id, dataset_id=dataset_id))
    session.flush()


def datasets_of(session: Session, request: AccessRequest) -> list[Dataset]:
    return list(
        session.exec(
            select(Dataset)
            .join(RequestDataset, RequestDataset.dataset_id == Dataset.id)
            .where(RequestDataset.request_id == request.id)
            .order_by(Dataset.slug)
        )
    )


def nations_of(session: Session, request: AccessRequest) -> list[Nation]:
    """Every Nation whose data the request touches, by name."""
    return list(
        session.exec(
            select(Nation)
            .where(
                Nation.id.in_(
                    select(DatasetNation.nation_id)
                    .join(RequestDataset, RequestDataset.dataset_id == DatasetNation.dataset_id)
                    .where(RequestDataset.request_id == request.id)
                )
            )
            .order_by(Nation.name)
        )
    )


def snapshot(session: Session, request: AccessRequest) -> dict[str, Any]:
    """The request's fields as they stand, in the shape a revision keeps them."""
    values = {name: getattr(request, name) for name in request_fields.LABELS if name != "datasets"}
    values["datasets"] = [dataset.slug for dataset in datasets_of(session, request)]
    return values


def revisions_of(session: Session, request: AccessRequest) -> list[RequestRevision]:
    return list(
        session.exec(
            select(RequestRevision)
            .where(RequestRevision.request_id == request.id)
            .order_by(RequestRevision.number)
        )
    )


def changes_since_previous(session: Session, request: AccessRequest) -> list[tuple]:
    """What the current revision changed since the one before (empty for the first)."""
    revisions = revisions_of(session, request)
    if len(revisions) < 2:
        return []
    return request_fields.diff(revisions[-2].fields, revisions[-1].fields)


def _visibility(session: Session, user: User) -> sa.ColumnElement[bool]:
    """Who sees what: researchers their own requests; coordinators every submitted
    request; a Nation's stewards and representatives every submitted request that
    touches their Nation's data. Drafts are the researcher's alone."""
    memberships = session.exec(
        select(RoleMembership).where(RoleMembership.user_id == user.id)
    ).all()
    submitted = AccessRequest.status != RequestStatus.DRAFT
    conditions = [AccessRequest.researcher_id == user.id]
    if any(m.role == Role.COORDINATOR for m in memberships):
        conditions.append(submitted)
    nation_ids = {m.nation_id for m in memberships if m.nation_id is not None}
    if nation_ids:
        touches_nation = (
            select(RequestDataset.request_id)
            .join(DatasetNation, DatasetNation.dataset_id == RequestDataset.dataset_id)
            .where(
                RequestDataset.request_id == AccessRequest.id,
                DatasetNation.nation_id.in_(nation_ids),
            )
            .exists()
        )
        conditions.append(sa.and_(submitted, touches_nation))
    return sa.or_(*conditions)


def visible_requests(
    session: Session,
    user: User,
    status: RequestStatus | None = None,
    limit: int = 200,
    before: tuple[datetime, int] | None = None,
) -> list[AccessRequest]:
    """What ``user`` may see, most recently changed first. ``before`` (updated_at, id) of
    the last request of a previous page continues after it (keyset pagination)."""
    query = select(AccessRequest).where(_visibility(session, user))
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
    query = select(AccessRequest).where(AccessRequest.ref == ref, _visibility(session, user))
    if for_update:
        query = query.with_for_update(of=AccessRequest)
    request = session.exec(query).first()
    if request is None:
        raise NotFound(f"no request {ref}")
    return request
