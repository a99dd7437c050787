"""Every periodic job, in one table: its name, what it does, how often.

A job is a function ``(session, now) -> summary``. It runs in its own transaction
(portal/jobs/runner.py), under RQ's cron scheduler when REDIS_URL is set (`portal
worker`, portal/jobs/queue.py) or inside `portal serve` otherwise (portal/jobs/inline.py).
No job changes a request's state but ``expire_agreements``, which runs the system's
Expire command through perform() (invariant 3; tests/jobs/test_jobs_invariant.py runs
every job listed here).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlmodel import Session

from portal.jobs.batches import in_batches
from portal.jobs.custodians import deliver_custodian_notices
from portal.jobs.expiry import expire_due
from portal.notify.service import deliver
from portal.workflow import reminders
from portal.workflow.expiry_notices import send_expiry_notices


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Session, datetime], str]
    interval: timedelta
    description: str


def _deliver_mail(session: Session, now: datetime) -> str:
    sent, failed = deliver(session, current_app.config)
    return f"{sent} sent, {failed} failed"


def _expire_agreements(session: Session, now: datetime) -> str:
    refs = expire_due(session, now.date())
    return f"{len(refs)} expired" + (f": {', '.join(refs)}" if refs else "")


def _expiry_notices(session: Session, now: datetime) -> str:
    return f"{send_expiry_notices(session, now.date())} notice(s) queued"


def _custodian_notices(session: Session, now: datetime) -> str:
    counts = deliver_custodian_notices(session, now)
    return ", ".join(f"{count} {outcome}" for outcome, count in counts.items())


def _reminders(session: Session, now: datetime) -> str:
    steps = reminders.every_step(session, now, current_app.config.get("REMIND_SCREENING_DAYS"))
    sent = sum(reminders.remind_if_due(session, step, now) for step in in_batches(session, steps))
    return f"{sent} reminder(s) queued"


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("deliver_mail", _deliver_mail, timedelta(minutes=1), "Send what waits in the outbox"),
        Job(
            "expire_agreements",
            _expire_agreements,
            timedelta(hours=1),
            "End access for active requests whose term is over",
        ),
        Job(
            "expiry_notices",
            _expiry_notices,
            timedelta(hours=6),
            "Tell the researcher and each Nation 60, 30 and 7 days before the term ends",
        ),
        Job(
            "reminders",
            _reminders,
            timedelta(hours=6),
            "Remind whoever can act on a step that has waited too long",
        ),
        Job(
            "deliver_custodian_notices",
            _custodian_notices,
            timedelta(minutes=1),
            "Send the data custodians the signed notices that are due",
        ),
        # A further job is one row here: both runners and the invariant-3 test pick it up.
    )
}
