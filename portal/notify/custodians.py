"""Custodians' endpoints and the notices waiting for them. A notice is queued in the
transaction of the step it reports (like mail), one per dataset whose custodian has an
endpoint, and sent afterwards by portal/notify/webhooks.py. Flush, never commit."""

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.db import utcnow
from portal.errors import ValidationError
from portal.notify.addresses import is_private_host
from portal.notify.models import CustodianDelivery, CustodianEndpoint
from portal.notify.sealing import new_secret, seal

# What a notice reports: access started, changed (amendment), ended (expiry,
# revocation, closure) or the data was attested destroyed.
EVENT_TYPES = ("access.started", "access.changed", "access.ended", "access.destroyed")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def check_url(url: str, allow_local_http: bool, allow_private: bool = False) -> str:
    """An HTTPS address; plain HTTP only to this machine, and only when the setting
    CUSTODIAN_WEBHOOKS_ALLOW_LOCAL_HTTP allows it (tests and demos). Never this machine
    nor a private network unless CUSTODIAN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES allows it
    (portal/notify/addresses.py; names are judged again when sending)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or not host or len(url) > 500 or parts.username or parts.password:
        raise ValidationError(
            {"url": _("Give the endpoint's full address, e.g. https://host/path.")}
        )
    local_http = parts.scheme == "http" and allow_local_http and host in LOCAL_HOSTS
    if parts.scheme != "https" and not local_http:
        raise ValidationError({"url": _("The endpoint must be an https:// address.")})
    if not allow_private and is_private_host(host):
        message = _(
            "The endpoint %(host)s is on this machine or a private network: notices go "
            "only to public addresses.",
            host=host,
        )
        raise ValidationError({"url": message})
    return url


def endpoint_of(session: Session, dataset_id: int) -> CustodianEndpoint | None:
    query = select(CustodianEndpoint).where(CustodianEndpoint.dataset_id == dataset_id)
    return session.exec(query).first()


def set_endpoint(
    session: Session, dataset_id: int, url: str, secret_key: str, rotate: bool = False
) -> tuple[CustodianEndpoint, str | None, str | None]:
    """Register (or move) the dataset's endpoint; a new secret when there was none or
    ``rotate``. Returns the endpoint, the new secret (shown once, never again) and the
    address it had before. ``url`` must have passed check_url()."""
    endpoint = endpoint_of(session, dataset_id)
    before = endpoint.url if endpoint else None
    secret = new_secret() if endpoint is None or rotate else None
    if endpoint is None:
        endpoint = CustodianEndpoint(dataset_id=dataset_id, url=url, sealed_secret="")
    endpoint.url = url
    if secret is not None:
        endpoint.sealed_secret = seal(secret, secret_key)
        endpoint.secret_made_at = utcnow()
    session.add(endpoint)
    session.flush()
    return endpoint, secret, before


def remove_endpoint(session: Session, dataset_id: int) -> str | None:
    """Stop notices to the dataset's custodian; the address it had, if any. Queued
    notices stay in the log and fail, with nowhere to go."""
    endpoint = endpoint_of(session, dataset_id)
    if endpoint is None:
        return None
    session.delete(endpoint)
    session.flush()
    return endpoint.url


def enqueue(
    session: Session,
    dataset_id: int,
    request_id: int | None,
    event_type: str,
    data: dict[str, Any],
    now: datetime | None = None,
) -> CustodianDelivery:
    """Queue one notice; due at once. The body follows Standard Webhooks' shape."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown custodian notice {event_type!r}")
    now = now or utcnow()
    delivery = CustodianDelivery(
        id=f"msg_{uuid.uuid4().hex}",
        dataset_id=dataset_id,
        request_id=request_id,
        event_type=event_type,
        payload={"type": event_type, "timestamp": now.isoformat(), "data": data},
        created_at=now,
        due_at=now,
    )
    session.add(delivery)
    return delivery
