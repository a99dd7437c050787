"""The entitlement notices to data custodians: what each says. Queued by
portal/workflow/notices.py in the transition's transaction (access started, ended),
one per dataset of the request whose custodian registered an endpoint.

A notice says who has access to which dataset, under which request, for which term and
on which conditions (the catalogue's codes; a Nation's own words as text), with the
agreement's machine-readable terms (ODRL, portal/agreements/odrl.py) as embedded in
the signed PDF, and their SHA-256. They go inline, not as a link: a custodian has no
account to fetch them with, and they are a few kilobytes (the conditions' texts are
bounded, portal/policy/standard_texts.py). It never
carries a Nation's deliberations (invariant 9): no reviews, comments, reasons or names
of the Nations' people."""

import hashlib
import json
from typing import Any

from sqlmodel import Session, select

from portal.agreements import service as agreements
from portal.agreements.models import Agreement
from portal.agreements.parties import approving_nations
from portal.auth.models import User
from portal.notify.custodians import endpoint_of, enqueue
from portal.registry.models import DatasetNation, Nation
from portal.requests.models import AccessRequest
from portal.requests.service import datasets_named, datasets_of
from portal.reviews.service import standing_approval

CUSTOM = "custom"  # a Nation's own words in a decision: no code of the catalogue


def _conditions(
    session: Session, request: AccessRequest, nation: Nation, revision: int | None
) -> list[dict[str, str]]:
    """The conditions of the Nation's approval of the edition in force: codes, or text
    for its own words."""
    decision = standing_approval(session, request, nation, revision)
    if decision is None:
        return []
    return [
        {"text": c.get("text", "")} if c.get("code") in (None, "", CUSTOM) else {"code": c["code"]}
        for c in decision.conditions
    ]


def _terms(session: Session, agreement: Agreement | None) -> dict[str, Any]:
    """The terms as signed: the JSON-LD object, and the digest of its bytes (which a
    custodian may compare with the file in the PDF); none before they were embedded."""
    data = agreements.signed_terms(session, agreement) if agreement is not None else None
    if data is None:
        return {"terms": None, "terms_sha256": None}
    return {"terms": json.loads(data), "terms_sha256": hashlib.sha256(data).hexdigest()}


def notice_data(session: Session, request: AccessRequest, dataset) -> dict[str, Any]:
    """The body's ``data`` for one dataset of the request."""
    researcher = session.get(User, request.researcher_id)
    agreement = agreements.current(session, request)
    holding = set(
        session.exec(
            select(DatasetNation.nation_id).where(DatasetNation.dataset_id == dataset.id)
        ).all()
    )
    return {
        "request": {"ref": request.ref, "title": request.title, "status": request.status.value},
        "researcher": {"name": researcher.name, "email": researcher.email},
        "dataset": {"slug": dataset.slug, "title": dataset.title},
        "edition": agreement.edition if agreement else None,
        "term": {
            "start": agreement.term_start.isoformat() if agreement else None,
            "end": agreement.term_end.isoformat() if agreement else None,
        },
        "nations": [
            {
                "slug": nation.slug,
                "name": nation.name,
                "holds_data_in_dataset": nation.id in holding,
                "conditions": _conditions(
                    session, request, nation, agreement.revision if agreement else None
                ),
            }
            for nation in approving_nations(session, request)
        ],
        **_terms(session, agreement),
    }


def tell_custodians(
    session: Session, request: AccessRequest, event_type: str, only: list[str] | None = None
) -> int:
    """Queue ``event_type`` for the custodian of every dataset of the request that has
    an endpoint (``only``: of these datasets, by slug, e.g. those an amendment dropped);
    how many were queued."""
    queued = 0
    chosen = datasets_of(session, request) if only is None else datasets_named(session, only)
    for dataset in chosen:
        if endpoint_of(session, dataset.id) is not None:
            data = notice_data(session, request, dataset)
            enqueue(session, dataset.id, request.id, event_type, data)
            queued += 1
    return queued
