"""Access requests: drafts, their fields, datasets, Nations and revisions. Flush,
never commit. Who may do what with them is the workflow's (portal.workflow) and the
policy's (portal.policy) to say, above this package."""

import re
import secrets
from typing import Any

import sqlalchemy as sa
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


def save_edits(
    session: Session, request: AccessRequest, values: dict[str, Any], datasets
) -> list[str]:
    """The researcher's edits (clean values, fields.clean); the names of the fields they
    change. A draft never submitted is edited in place: no one else sees it. Once
    submitted, the edits wait in ``pending_fields`` until the next submission
    (``apply_edits``), so that what everyone else reads, the Nations the request concerns
    and who is on its requesting side stay as submitted (invariants 9 and 10)."""
    if not request.current_revision:
        return apply_fields(session, request, values, datasets)
    before = working_copy(session, request)
    after = {**before, **values}
    if datasets is not None:
        after["datasets"] = sorted(dataset.slug for dataset in datasets)
    changed = [name for name, *_ in request_fields.diff(before, after)]
    if changed:  # a new dict, so that the JSON column is written; none if set back
        submitted = snapshot(session, request)
        request.pending_fields = after if request_fields.diff(submitted, after) else None
        session.add(request)
        session.flush()
    return changed


def working_copy(session: Session, request: AccessRequest) -> dict[str, Any]:
    """The fields as its researcher edits them: their edits not yet submitted, if any,
    else the fields as they stand (in the shape a revision keeps them)."""
    if request.pending_fields is not None:
        return dict(request.pending_fields)
    return snapshot(session, request)


def as_edited(session: Session, request: AccessRequest) -> AccessRequest:
    """The request as its researcher's pending edits would make it: a copy, never added
    to the session, for the rules named on their page (workflow.unmet); the request
    itself when nothing is pending. Its fields only: what is read by the request's id
    (its datasets, Nations, reviews) stays as submitted."""
    if request.pending_fields is None:
        return request
    values = {name: getattr(request, name) for name in AccessRequest.model_fields}
    values.update({k: v for k, v in request.pending_fields.items() if k != "datasets"})
    return AccessRequest(**values)


def apply_edits(session: Session, request: AccessRequest, values: dict[str, Any], datasets) -> None:
    """On submission: the pending edits (cleaned again: ``values`` and ``datasets``)
    become the request's fields."""
    if request.pending_fields is None:
        return
    apply_fields(session, request, values, datasets)
    request.pending_fields = None
    session.add(request)


def datasets_named(session: Session, slugs: list[str]) -> list[Dataset]:
    """The datasets of these slugs, by slug (an unknown slug names none)."""
    if not slugs:
        return []
    return list(session.exec(select(Dataset).where(Dataset.slug.in_(slugs)).order_by(Dataset.slug)))


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


def counted_link() -> sa.ColumnElement[bool]:
    """SQL over RequestDataset joined to DatasetNation: the dataset's Nation is one of the
    request's. A dataset gains a Nation only while no request using it is in progress or
    in force (registry.service), so a Nation added after a request's last submission was
    never asked about it and is none of its Nations (it does not see it); one added before
    a submission, or while the request is a draft, is asked like the others."""
    last_submitted = (
        select(sa.func.max(RequestRevision.submitted_at))
        .where(RequestRevision.request_id == RequestDataset.request_id)
        .scalar_subquery()
    )
    return sa.or_(
        DatasetNation.added_at.is_(None),
        DatasetNation.added_at <= sa.func.coalesce(last_submitted, DatasetNation.added_at),
    )


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
        .where(RequestDataset.request_id.in_(list(found)), counted_link())
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
    # Sorted here, not by the database: a collation may order slugs otherwise.
    values["datasets"] = sorted(dataset.slug for dataset in datasets_of(session, request))
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


def titled(session: Session, changes: list[tuple]) -> list[tuple]:
    """``changes`` (request_fields.diff's) with the datasets named by their titles, as a
    person reads them, not by their slugs."""
    named = [row for row in changes if row[0] == "datasets"]
    if not named:
        return changes
    slugs = {slug for _n, _l, *sides in named for side in sides for slug in side or []}
    query = select(Dataset.slug, Dataset.title).where(Dataset.slug.in_(slugs))
    titles = dict(session.exec(query).all())
    return [
        (name, label, *([titles.get(s, s) for s in side or []] for side in sides))
        if name == "datasets"
        else (name, label, *sides)
        for name, label, *sides in changes
    ]


def changes_since(
    session: Session, request: AccessRequest, number: int, fields: dict[str, Any] | None = None
) -> list[tuple]:
    """What the request's fields as they stand (or ``fields``: as one reader sees them)
    change from revision ``number`` (a renewal's or amendment's changes to the revision
    the agreement in force was issued on)."""
    found = [r for r in revisions_of(session, request) if r.number == number]
    if not found:
        return []
    return request_fields.diff(
        found[0].fields, snapshot(session, request) if fields is None else fields
    )
