"""Access requests: drafts, their fields, datasets, Nations and revisions. Flush,
never commit. Who may do what with them is the workflow's (portal.workflow) and the
policy's (portal.policy) to say, above this package."""

import re
import secrets
from typing import Any

from sqlmodel import Session, select

from portal.auth.models import User
from portal.db import TransactionCache, utcnow
from portal.registry.models import Dataset, DatasetNation, Nation
from portal.requests import fields as request_fields
from portal.requests.models import AccessRequest, RequestDataset, RequestRevision

# Crockford's base32 without look-alikes (no I, L, O, U): easy to read out on a phone.
_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REF_PATTERN = re.compile(f"R-[{_REF_ALPHABET}]{{4}}-[{_REF_ALPHABET}]{{4}}")


def new_ref() -> str:
    chars = "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))
    return f"R-{chars[:4]}-{chars[4:]}"


def new_draft(
    session: Session, researcher: User, values: dict[str, Any], datasets
) -> AccessRequest:
    """A draft with these clean values (fields.clean); the workflow checked who may."""
    request = AccessRequest(ref=new_ref(), researcher_id=researcher.id, **values)
    session.add(request)
    session.flush()
    set_datasets(session, request, datasets or [])
    return request


def apply_fields(
    session: Session, request: AccessRequest, values: dict[str, Any], datasets
) -> list[str]:
    """Set these clean values on the draft; the names of the fields that changed."""
    before = snapshot(session, request)
    for name, value in values.items():
        setattr(request, name, value)
    if datasets is not None:
        set_datasets(session, request, datasets)
    changed = [name for name, *_ in request_fields.diff(before, snapshot(session, request))]
    if changed:
        request.updated_at = utcnow()
        session.add(request)
        session.flush()
    return changed


def set_datasets(session: Session, request: AccessRequest, datasets: list[Dataset]) -> None:
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


# Per transaction: a page offering steps on many requests asks each one's Nations often.
_cache = TransactionCache("portal.requests", (RequestDataset, DatasetNation))


def nations_of(session: Session, request: AccessRequest) -> list[Nation]:
    """Every Nation whose data the request touches, by name."""
    if (found := _cache(session).get(request.id)) is None:
        found = preload_nations(session, [request])[request.id]
    return list(found)


def preload_nations(session: Session, requests: list[AccessRequest]) -> dict[int, list[Nation]]:
    """Read the Nations of every one of ``requests`` in one query, kept for this
    transaction; returns them, by request id."""
    found: dict[int, list[Nation]] = {request.id: [] for request in requests}
    rows = session.exec(
        select(RequestDataset.request_id, Nation)
        .join(DatasetNation, DatasetNation.dataset_id == RequestDataset.dataset_id)
        .join(Nation, Nation.id == DatasetNation.nation_id)
        .where(RequestDataset.request_id.in_(list(found)))
        .order_by(Nation.name, Nation.id)
    )
    for request_id, nation in rows:  # a Nation may hold several of the datasets
        if nation not in found[request_id]:
            found[request_id].append(nation)
    _cache(session).update(found)  # after the query: its autoflush may empty the cache
    return found


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


def changes_since(session: Session, request: AccessRequest, number: int) -> list[tuple]:
    """What the request's fields as they stand change from revision ``number`` (a
    renewal's or amendment's changes to the revision the agreement in force was issued on)."""
    found = [r for r in revisions_of(session, request) if r.number == number]
    if not found:
        return []
    return request_fields.diff(found[0].fields, snapshot(session, request))
