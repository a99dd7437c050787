"""Sending the custodians' notices: signed the Standard Webhooks way (HMAC-SHA256 over
the webhook-id, the timestamp and the body, by the `standardwebhooks` library, so a
custodian verifies with any of its verifiers), retried with backoff for a day from the
first attempt, every attempt logged. Then the delivery is failed, shown in the log, and
retried only by hand (retry()). Flush, never commit."""

import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select
from standardwebhooks import Webhook

from portal.db import utcnow
from portal.notify.addresses import PrivateAddress, public_only
from portal.notify.custodians import endpoint_of
from portal.notify.models import CustodianDelivery, DeliveryAttempt, DeliveryStatus
from portal.notify.sealing import SecretUnreadable, unseal

# The wait after the 1st, 2nd, ... failed attempt; the last repeats until the day is up.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
GIVE_UP_AFTER = timedelta(hours=24)
TIMEOUT_SECONDS = 10
USER_AGENT = "StewardshipPortal-Notices/1"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: the signed notice goes where it was
    registered, never where a response points."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = public_only(_NoRedirects)
# Only where CUSTODIAN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES says so (tests, demos).
_OPENER_ANY_ADDRESS = urllib.request.build_opener(_NoRedirects)


def body_of(delivery: CustodianDelivery) -> str:
    """The exact bytes signed and sent (the same on every attempt)."""
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)


def signed_headers(delivery: CustodianDelivery, secret: str, body: str) -> dict[str, str]:
    """webhook-id, webhook-timestamp (the real time of sending: receivers refuse a
    timestamp far from their clock) and webhook-signature."""
    sent_at = datetime.now(UTC)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": delivery.id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(delivery.id, sent_at, body),
    }


def _post(
    url: str, body: str, headers: dict[str, str], allow_private: bool = False
) -> tuple[int | None, str]:
    """The receiver's status code, or None and why there was none."""
    if not url.startswith(("https://", "http://")):  # check_url() let no other through
        return None, "the endpoint is not an http(s) address"
    # The scheme is checked just above, and at registration (custodians.check_url).
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")  # noqa: S310
    try:
        opener = _OPENER_ANY_ADDRESS if allow_private else _OPENER
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, ""
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, PrivateAddress):  # said plainly: it is no network failure
            return None, str(reason)
        return None, f"{type(error).__name__}: {reason}"[:500]


def _target(session: Session, dataset_id: int, secret_key: str) -> tuple[str, str] | str:
    """Where the dataset's notices go and the secret that signs them, or why none."""
    endpoint = endpoint_of(session, dataset_id)
    if endpoint is None:
        return "the dataset has no endpoint registered"
    try:
        return endpoint.url, unseal(endpoint.sealed_secret, secret_key)
    except SecretUnreadable as unreadable:
        return str(unreadable)


def attempt(
    session: Session,
    delivery: CustodianDelivery,
    now: datetime,
    secret_key: str,
    targets: dict[int, tuple[str, str] | str] | None = None,
    allow_private: bool = False,
) -> bool:
    """Try once; log it; schedule the next try, or mark delivered or failed. ``targets``:
    each dataset's endpoint, read once per run of deliver_due(); ``allow_private``: the
    setting CUSTODIAN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES (portal/notify/addresses.py)."""
    targets = {} if targets is None else targets
    if delivery.dataset_id not in targets:
        targets[delivery.dataset_id] = _target(session, delivery.dataset_id, secret_key)
    target = targets[delivery.dataset_id]
    started = time.perf_counter()
    status_code, error = None, ""
    if isinstance(target, str):
        error = target
    else:
        url, secret = target
        body = body_of(delivery)
        headers = signed_headers(delivery, secret, body)
        status_code, error = _post(url, body, headers, allow_private)
    duration_ms = round((time.perf_counter() - started) * 1000)
    delivered = status_code is not None and 200 <= status_code < 300
    if status_code is not None and not delivered:
        error = f"the receiver answered {status_code}"
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            attempted_at=now,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
        )
    )
    _schedule(delivery, now, delivered)
    session.add(delivery)
    return delivered


def _schedule(delivery: CustodianDelivery, now: datetime, delivered: bool) -> None:
    delivery.attempts += 1
    delivery.first_attempt_at = delivery.first_attempt_at or now
    if delivered:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        return
    next_due = now + BACKOFF[min(delivery.attempts, len(BACKOFF)) - 1]
    if next_due > delivery.first_attempt_at + GIVE_UP_AFTER:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.due_at = next_due


def deliver_due(
    session: Session, now: datetime, secret_key: str, limit: int = 100, allow_private: bool = False
) -> dict[str, int]:
    """Attempt every pending delivery due by ``now``, oldest first; what became of them.
    Rows another worker is sending are skipped (PostgreSQL), never sent twice at once."""
    query = (
        select(CustodianDelivery)
        .where(CustodianDelivery.status == DeliveryStatus.PENDING, CustodianDelivery.due_at <= now)
        .order_by(CustodianDelivery.due_at, CustodianDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    counts = {"delivered": 0, "waiting": 0, "failed": 0}
    targets: dict[int, tuple[str, str] | str] = {}
    for delivery in session.exec(query).all():
        if attempt(session, delivery, now, secret_key, targets, allow_private):
            counts["delivered"] += 1
        elif delivery.status is DeliveryStatus.FAILED:
            counts["failed"] += 1
        else:
            counts["waiting"] += 1
    session.flush()
    return counts


def retry(session: Session, delivery: CustodianDelivery, now: datetime | None = None) -> None:
    """Put a delivery back in the queue, due at once, with a new day of attempts."""
    delivery.status = DeliveryStatus.PENDING
    delivery.due_at = now or utcnow()
    delivery.first_attempt_at = None
    session.add(delivery)
    session.flush()


def attempts_of(session: Session, delivery_ids: list[str]) -> dict[str, list[DeliveryAttempt]]:
    found: dict[str, list[DeliveryAttempt]] = {i: [] for i in delivery_ids}
    rows = session.exec(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(delivery_ids))
        .order_by(DeliveryAttempt.id)
    )
    for row in rows:
        found[row.delivery_id].append(row)
    return found
