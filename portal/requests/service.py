"""Access requests: drafts and who may see what. Flush, never commit.

The workflow (submission, screening, reviews, decisions) builds on these.
"""

import secrets
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from portal.auth.models import Role, RoleMembership, User
from portal.db import utcnow
from portal.errors import ValidationError
from portal.registry.models import Dataset, DatasetNation
from portal.registry.service import jurisdiction_code
from portal.requests.models import AccessRequest, RequestDataset, RequestStatus

# Crockford's base32 without look-alikes (no I, L, O, U): easy to read out on a phone.
_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TEXT_FIELDS = (
    "title",
    "purpose",
    "methods",
    "community_benefit",
    "harm_assessment",
    "ethics_approval",
)


def new_ref() -> str:
    chars = "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))
    return f"R-{chars[:4]}-{chars[4:]}"


def _clean_fields(session: Session, fields: dict[str, Any]) -> tuple[dict[str, Any], list[Dataset]]:
    """Check the types of draft fields (drafts may be incomplete, never malformed)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        if name in fields:
            if not isinstance(fields[name], str):
                errors[name] = "Must be text."
            else:
                clean[name] = fields[name].strip()
    if "storage_location" in fields:
        location = fields["storage_location"]
        if not isinstance(location, str):
            errors["storage_location"] = "Must be an ISO 3166 code such as CA or CA-ON."
        elif location.strip():
            try:
                clean["storage_location"] = jurisdiction_code(location)
            except ValidationError as error:
                errors["storage_location"] = error.errors["residency"]
        else:
            clean["storage_location"] = ""
    if "retention_days" in fields:
        days = fields["retention_days"]
        if days is None:
            clean["retention_days"] = None
        elif isinstance(days, bool) or not isinstance(days, int) or days < 1:
            errors["retention_days"] = "Must be a whole number of days, at least 1."
        else:
            clean["retention_days"] = days
    datasets: list[Dataset] = []
    if "datasets" in fields:
        slugs = fields["datasets"]
        if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
            errors["datasets"] = "Must be a list of dataset slugs."
        else:
            found = {
                d.slug: d for d in session.exec(select(Dataset).where(Dataset.slug.in_(slugs)))
            }
            unknown = [s for s in slugs if s not in found]
            if unknown:
                errors["datasets"] = f"Unknown dataset: {', '.join(unknown)}."
            datasets = [found[s] for s in dict.fromkeys(slugs) if s in found]
    if "team" in fields:
        team = fields["team"]
        if not isinstance(team, list) or not all(
            isinstance(m, dict)
            and all(isinstance(m.get(k, ""), str) for k in ("name", "email", "role"))
            for m in team
        ):
            errors["team"] = "Must be a list of {name, email, role}."
        else:
            clean["team"] = [
                {k: m.get(k, "").strip() for k in ("name", "email", "role")} for m in team
            ]
    if errors:
        raise ValidationError(errors)
    return clean, datasets


def create_draft(session: Session, researcher: User, fields: dict[str, Any]) -> AccessRequest:
    clean, datasets = _clean_fields(session, fields)
    request = AccessRequest(ref=new_ref(), researcher_id=researcher.id, **clean)
    session.add(request)
    session.flush()
    for dataset in datasets:
        session.add(RequestDataset(request_id=request.id, dataset_id=dataset.id))
    session.flush()
    return request


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
    session: Session, user: User, status: RequestStatus | None = None, limit: int = 200
) -> list[AccessRequest]:
    query = select(AccessRequest).where(_visibility(session, user))
    if status is not None:
        query = query.where(AccessRequest.status == status)
    query = query.order_by(AccessRequest.updated_at.desc(), AccessRequest.id.desc()).limit(limit)
    return list(session.exec(query))


def touch(request: AccessRequest) -> None:
    request.updated_at = utcnow()
