"""Running one registered job, the same way under RQ and inside `portal serve`: in its
own transaction, counted in the metrics; and recording a run that failed every retry
as a FailedJob row, which administrators see and run again. Nothing is dropped."""

import logging
from datetime import datetime

from flask import Flask
from sqlmodel import Session, select

from portal import metrics
from portal.db import session_scope, utcnow
from portal.jobs.models import FailedJob, JobSchedule
from portal.jobs.registry import JOBS
from portal.notify.models import OutboxMessage
from portal.notify.service import failed_messages, one_line

# Seconds before each retry of a failed run (three retries, each later than the last).
RETRY_DELAYS = (30, 120, 600)


def run_job(app: Flask, name: str, now: datetime | None = None) -> str:
    """Run the job ``name`` once, committed when it ends (rolled back if it raises);
    its summary. ``now`` is the job's clock (tests move it forward)."""
    job = JOBS[name]
    with app.app_context():
        try:
            with session_scope(app) as session:
                summary = job.run(session, now or utcnow())
        except Exception:
            metrics.count_job(name, "failed")
            raise
        metrics.count_job(name, "done")
    app.logger.info("job %s: %s", name, summary)
    return summary


def keep_failure(
    session: Session, name: str, error: BaseException, attempts: int, runner: str
) -> FailedJob:
    """Keep a run that failed its last retry, for administrators (in ``session``)."""
    text = one_line(f"{type(error).__name__}: {error}")[:2000]
    failed = FailedJob(name=name, error=text, attempts=attempts, runner=runner)
    session.add(failed)
    session.flush()
    metrics.count_job(name, "gave_up")
    logging.getLogger(__name__).error("job %s failed %d times, kept: %s", name, attempts, text)
    return failed


def failed_jobs(session: Session) -> list[FailedJob]:
    """The failed runs no one has run again yet, the newest first."""
    return list(
        session.exec(
            select(FailedJob)
            .where(FailedJob.retried_at.is_(None))
            .order_by(FailedJob.failed_at.desc(), FailedJob.id.desc())
        )
    )


def everything_failed(session: Session) -> tuple[list[FailedJob], list[OutboxMessage]]:
    """What administrators are shown: failed job runs and mail that failed every attempt."""
    return failed_jobs(session), failed_messages(session)


def mark_retried(session: Session, failed_id: int) -> FailedJob | None:
    """Mark a failed run as run again (None if there is no such run left to retry), and
    make its job due now for the runner inside `portal serve`."""
    failed = session.get(FailedJob, failed_id)
    if failed is None or failed.retried_at is not None:
        return None
    failed.retried_at = utcnow()
    session.add(failed)
    if schedule := session.get(JobSchedule, failed.name):
        schedule.next_run_at, schedule.attempts = failed.retried_at, 0
        session.add(schedule)
    session.flush()
    return failed
