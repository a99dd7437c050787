"""The custodians' notices job: send every entitlement notice that is due (the first
attempt, or the next after the backoff), signed; run every minute or so. A receiver
that is down only delays its notices: each waits its turn for a day, then shows as
failed in the delivery log, where it can be sent again."""

from datetime import datetime

from flask import current_app
from sqlmodel import Session

from portal import metrics
from portal.notify.webhooks import deliver_due


def deliver_custodian_notices(session: Session, now: datetime) -> dict[str, int]:
    """Attempt what is due by ``now``; counts of delivered, waiting and failed. Each
    outcome is counted as the job's (custodian_notices)."""
    try:
        config = current_app.config
        allow_private = bool(config.get("CUSTODIAN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"))
        counts = deliver_due(session, now, config["SECRET_KEY"], allow_private=allow_private)
    except Exception:
        metrics.count_job("custodian_notices", "failed")
        raise
    for outcome, amount in counts.items():
        metrics.count_job("custodian_notices", outcome, amount)
    return counts
