"""The jobs without Redis: a thread inside `portal serve`, `portal demo` and each
gunicorn worker runs every registered job at its interval.

However many processes run it, each job runs in one at a time: a process takes the
job's lease on its ``job_schedule`` row with one conditional UPDATE (due, and no other
lease running), which the database grants to one of them. A failed run is retried after
RETRY_DELAYS, then kept as a FailedJob row and run again at its next interval.
"""

import logging
import os
import socket
import threading
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from sqlmodel import Session

from portal.db import session_scope, utcnow
from portal.jobs.models import JobSchedule
from portal.jobs.registry import JOBS
from portal.jobs.runner import RETRY_DELAYS, keep_failure, run_job

TICK_SECONDS = 15  # how often the thread looks for due jobs
LEASE = timedelta(minutes=15)  # longer than any run; a crashed holder's lease lapses
log = logging.getLogger(__name__)


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


def _ensure_rows(session: Session, now: datetime) -> None:
    table = JobSchedule.__table__
    known = set(session.exec(sa.select(table.c.name)).scalars())
    for name in JOBS.keys() - known:
        try:
            with session.begin_nested():  # another process may insert it at the same time
                session.add(JobSchedule(name=name, next_run_at=now))
        except sa.exc.IntegrityError:
            pass


def _claim(app: Flask, name: str, now: datetime, holder: str) -> bool:
    table = JobSchedule.__table__
    with session_scope(app) as session:
        _ensure_rows(session, now)
        taken = session.execute(
            table.update()
            .where(
                table.c.name == name,
                table.c.next_run_at <= now,
                sa.or_(table.c.lease_until.is_(None), table.c.lease_until < now),
            )
            .values(lease_until=now + LEASE, holder=holder)
        )
        return taken.rowcount == 1


def _finish(app: Flask, name: str, now: datetime, error: BaseException | None) -> None:
    with session_scope(app) as session:
        row = session.get(JobSchedule, name)
        row.lease_until, row.holder, row.last_run_at = None, "", now
        if error is None:
            row.attempts, row.last_outcome = 0, "done"
            row.next_run_at = now + JOBS[name].interval
        else:
            row.attempts += 1
            row.last_outcome = f"failed: {type(error).__name__}"[:500]
            if row.attempts <= len(RETRY_DELAYS):
                row.next_run_at = now + timedelta(seconds=RETRY_DELAYS[row.attempts - 1])
            else:
                keep_failure(session, name, error, row.attempts, "inline")
                row.attempts, row.next_run_at = 0, now + JOBS[name].interval
        session.add(row)


def run_due(app: Flask, now: datetime | None = None) -> dict[str, str]:
    """Run every job that is due and that no other process holds; {name: outcome}."""
    now, holder, outcomes = now or utcnow(), _holder(), {}
    for name in JOBS:
        if not _claim(app, name, now, holder):
            continue
        try:
            outcomes[name] = run_job(app, name, now)
        except Exception as error:  # kept, retried, then shown to administrators
            log.exception("job %s failed", name)
            outcomes[name] = f"failed: {error}"
            _finish(app, name, now, error)
        else:
            _finish(app, name, now, None)
    return outcomes


def start(app: Flask) -> threading.Thread | None:
    """Run the jobs in a background thread of this process, unless a `portal worker`
    runs them (REDIS_URL is set) or this app already has the thread."""
    if app.config.get("REDIS_URL") or app.extensions.get("portal.jobs.inline"):
        return None

    def loop() -> None:
        while True:
            time.sleep(TICK_SECONDS)
            try:
                run_due(app)
            except Exception:  # the database is away: try at the next tick
                log.exception("the inline job runner could not run")

    thread = threading.Thread(target=loop, name="portal-jobs", daemon=True)
    app.extensions["portal.jobs.inline"] = thread
    thread.start()
    return thread
