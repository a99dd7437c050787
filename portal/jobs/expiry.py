"""The daily expiry job: end access for every active request whose term is over.

Time only ever ends access; it never grants it (invariant 3). Each request is its own
command through perform(), as the system (no person decides it), committed a batch at a
time (portal/jobs/batches.py).
"""

from datetime import date

from sqlmodel import Session

from portal import metrics
from portal.jobs.batches import in_batches
from portal.workflow import Expire, perform
from portal.workflow.signing import due_for_expiry


def expire_due(session: Session, today: date) -> list[str]:
    """Expire every active request whose agreement's term has ended; their refs. Each
    run is counted (done or failed); each request it ends, as a workflow action."""
    try:
        refs = [
            perform(session, None, ref, Expire(today=today)).ref
            for ref in in_batches(session, due_for_expiry(session, today))
        ]
    except Exception:
        metrics.count_job("expiry", "failed")
        raise
    metrics.count_job("expiry", "done")
    return refs
