"""The API's delivery log of the custodians' notices: list, read one, send one again.
Who reads which is the workflow's (portal/workflow/deliveries.py)."""

from datetime import datetime

from pydantic import Field

from portal.api.bodies import Query
from portal.api.schemas import Out
from portal.auth.models import User
from portal.db import get_session
from portal.notify.models import DeliveryStatus
from portal.workflow import deliveries
from portal.workflow.deliveries import DeliveryRow


class DeliveryQuery(Query):
    status: DeliveryStatus | None = Field(default=None, description="Only notices in this state.")
    limit: int = Field(default=50, ge=1, le=200)


class AttemptOut(Out):
    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's answer; null if none came.")
    error: str
    duration_ms: int


class DeliveryOut(Out):
    id: str = Field(description="The webhook-id the custodian received (the same each attempt).")
    event_type: str = Field(examples=["access.started"])
    dataset: str
    request: str | None
    status: DeliveryStatus
    attempts: list[AttemptOut]
    created_at: datetime
    due_at: datetime = Field(description="When the next attempt is due, while pending.")
    delivered_at: datetime | None
    payload: dict = Field(description="The JSON body, as signed and sent.")
    allowed_actions: list[str] = Field(
        description='["retry"] if you may send it again now (it is not delivered).'
    )


class DeliveryList(Out):
    items: list[DeliveryOut]


def _out(row: DeliveryRow) -> DeliveryOut:
    d = row.delivery
    return DeliveryOut(
        id=d.id,
        event_type=d.event_type,
        dataset=row.dataset.slug,
        request=row.ref,
        status=d.status,
        attempts=[AttemptOut.model_validate(a) for a in row.attempts],
        created_at=d.created_at,
        due_at=d.due_at,
        delivered_at=d.delivered_at,
        payload=d.payload,
        allowed_actions=["retry"] if row.may_retry else [],
    )


def list_deliveries(user: User, query: DeliveryQuery) -> DeliveryList:
    rows = deliveries.deliveries(get_session(), user, query.status, query.limit)
    return DeliveryList(items=[_out(row) for row in rows])


def get_delivery(user: User, delivery_id: str) -> DeliveryOut:
    return _out(deliveries.delivery(get_session(), user, delivery_id))


def retry_delivery(user: User, delivery_id: str) -> DeliveryOut:
    return _out(deliveries.retry(get_session(), user, delivery_id))
