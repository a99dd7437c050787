"""The custodians' notices as people handle them: an administrator registers a
dataset's endpoint (manage_registry); the coordinators (every dataset) and each Nation's
stewards and representatives (the datasets holding its data) read the delivery log and
send a notice again (view_deliveries, retry_delivery). The policy says who; the datasets'
Nations say where. Flush, never commit.

Registering stays the registry's (manage_registry): a dataset may hold several Nations'
data, so one Nation moving its endpoint would redirect the notices about the others'."""

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import User
from portal.db import utcnow
from portal.errors import BlockingRule, NotFound, Refused
from portal.notify import custodians, webhooks
from portal.notify.models import CustodianDelivery, CustodianEndpoint, DeliveryAttempt
from portal.notify.models import DeliveryStatus as D
from portal.policy.access import request_nation_ids
from portal.policy.service import authorize, require
from portal.policy.vocabulary import Action
from portal.registry.models import Dataset, DatasetNation
from portal.registry.service import list_nations, nations_of
from portal.requests.models import AccessRequest


def _allow_local_http() -> bool:
    return bool(current_app.config.get("CUSTODIAN_WEBHOOKS_ALLOW_LOCAL_HTTP"))


def current_endpoint(session: Session, dataset: Dataset) -> CustodianEndpoint | None:
    return custodians.endpoint_of(session, dataset.id)


def register_endpoint(
    session: Session, actor: User | None, dataset: Dataset, url: str, rotate: bool = False
) -> tuple[CustodianEndpoint, str | None]:
    """Set the dataset's endpoint (``actor`` None: the operator's CLI); the new secret,
    shown once, when there was none or ``rotate``. Recorded as dataset.changed."""
    if actor is not None:
        require(session, actor, Action.MANAGE_REGISTRY)
    allow_private = bool(current_app.config.get("CUSTODIAN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"))
    url = custodians.check_url(url, _allow_local_http(), allow_private)
    secret_key = current_app.config["SECRET_KEY"]
    endpoint, secret, before = custodians.set_endpoint(session, dataset.id, url, secret_key, rotate)
    changes = {}
    if before != url:
        changes["notice_endpoint"] = [before, url]
    if secret is not None:
        changes["notice_secret"] = ["", "new secret made"]  # never the secret itself
    _changed(session, actor, dataset, changes)
    return endpoint, secret


def remove_endpoint(session: Session, actor: User | None, dataset: Dataset) -> bool:
    if actor is not None:
        require(session, actor, Action.MANAGE_REGISTRY)
    before = custodians.remove_endpoint(session, dataset.id)
    _changed(session, actor, dataset, {"notice_endpoint": [before, None]} if before else {})
    return before is not None


def _changed(session: Session, actor: User | None, dataset: Dataset, changes: dict) -> None:
    if changes:
        record_event(
            session,
            action=EventType.DATASET_CHANGED,
            actor=actor,
            nations=nations_of(session, dataset),
            details={"slug": dataset.slug, "changes": changes},
        )


def _nation_ids(session: Session, actor: User, action: Action) -> set[int] | None:
    """The Nations whose datasets' deliveries ``actor`` may handle; None: every one."""
    if authorize(session, actor, action).allowed:
        return None
    nations = list_nations(session)
    return {n.id for n in nations if authorize(session, actor, action, nation=n).allowed}


@dataclass
class DeliveryRow:
    delivery: CustodianDelivery
    dataset: Dataset
    ref: str | None
    attempts: list[DeliveryAttempt]
    may_retry: bool = False  # the reader may send it again (and it is not delivered)


def deliveries(
    session: Session, actor: User, status: D | None = None, limit: int = 200
) -> list[DeliveryRow]:
    """The log ``actor`` may read, newest first (403 if they may read none of it). A
    Nation reads the notices about its datasets' data in the requests it concerns."""
    nation_ids = _nation_ids(session, actor, Action.VIEW_DELIVERIES)
    if nation_ids == set():
        require(session, actor, Action.VIEW_DELIVERIES)  # raises: the policy's words
    query = (
        select(CustodianDelivery, Dataset, AccessRequest.ref)
        .join(Dataset, Dataset.id == CustodianDelivery.dataset_id)
        .join(AccessRequest, AccessRequest.id == CustodianDelivery.request_id, isouter=True)
        .order_by(CustodianDelivery.created_at.desc(), CustodianDelivery.id)
        .limit(limit)
    )
    if nation_ids is not None:
        holding = select(DatasetNation.dataset_id).where(DatasetNation.nation_id.in_(nation_ids))
        query = query.where(CustodianDelivery.dataset_id.in_(holding))
    if status is not None:
        query = query.where(CustodianDelivery.status == status)
    found = session.exec(query).all()
    concerned = {d.id: _concerned(session, d) for d, _, _ in found}
    rows = [row for row in found if nation_ids is None or nation_ids & concerned[row[0].id]]
    attempts = webhooks.attempts_of(session, [d.id for d, _, _ in rows])
    retrying = _nation_ids(session, actor, Action.RETRY_DELIVERY)
    return [
        DeliveryRow(d, dataset, ref, attempts[d.id], _retryable(d, retrying, concerned[d.id]))
        for d, dataset, ref in rows
    ]


def _concerned(session: Session, found: CustodianDelivery) -> set[int]:
    """The Nations a notice concerns: whose data the dataset holds, among the request's."""
    holders = set(
        session.exec(
            select(DatasetNation.nation_id).where(DatasetNation.dataset_id == found.dataset_id)
        )
    )
    request = session.get(AccessRequest, found.request_id) if found.request_id else None
    return holders & request_nation_ids(session, request) if request else holders


def _retryable(found: CustodianDelivery, allowed: set[int] | None, holders: set[int]) -> bool:
    return found.status is not D.DELIVERED and (allowed is None or bool(allowed & holders))


def delivery(session: Session, actor: User, delivery_id: str) -> DeliveryRow:
    """One delivery with its attempts: 404 unless ``actor`` may read it."""
    found = session.get(CustodianDelivery, delivery_id) if delivery_id else None
    if found is None or not _may(session, actor, Action.VIEW_DELIVERIES, found):
        raise NotFound(_("no such delivery"))
    dataset = session.get(Dataset, found.dataset_id)
    request = session.get(AccessRequest, found.request_id) if found.request_id else None
    attempts = webhooks.attempts_of(session, [found.id])[found.id]
    retrying = _nation_ids(session, actor, Action.RETRY_DELIVERY)
    may_retry = _retryable(found, retrying, _concerned(session, found))
    return DeliveryRow(found, dataset, request.ref if request else None, attempts, may_retry)


def _may(session: Session, actor: User, action: Action, found: CustodianDelivery) -> bool:
    allowed = _nation_ids(session, actor, action)
    return allowed is None or bool(allowed & _concerned(session, found))


def retry(session: Session, actor: User, delivery_id: str) -> DeliveryRow:
    """Send a notice again: due at once, with a new day of attempts (the job sends it).
    404 if the actor may not read it, 403 if they may not resend, 409 once delivered."""
    row = delivery(session, actor, delivery_id)
    if not _may(session, actor, Action.RETRY_DELIVERY, row.delivery):
        require(session, actor, Action.RETRY_DELIVERY)  # raises: the policy's words
    if row.delivery.status is D.DELIVERED:
        message = _("This notice was delivered already.")
        raise Refused(message, [BlockingRule("state", message)])
    webhooks.retry(session, row.delivery, utcnow())
    record_event(
        session,
        action=EventType.DELIVERY_RETRIED,
        actor=actor,
        nations=nations_of(session, row.dataset),
        details={
            "delivery": row.delivery.id,
            "dataset": row.dataset.slug,
            "type": row.delivery.event_type,
        },
    )
    return row
