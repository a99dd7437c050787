"""The jobs on Redis, with RQ (when REDIS_URL is set): `portal worker` runs an RQ worker
with its scheduler (retries after RETRY_DELAYS) and RQ's cron scheduler, which enqueues
each registered job at its interval.

RQ's cron jobs take no retry setting, so each tick enqueues ``dispatch``, which puts the
job itself on the queue with its retries. One worker at a time runs the cron scheduler
(a Redis lock, renewed while it lives), so several workers never enqueue a job twice.
A run that fails its last retry is kept as a FailedJob row (portal/jobs/runner.py).
"""

import threading
from datetime import datetime

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import LockError
from rq import Queue, Retry, SimpleWorker, get_current_job
from rq.cron import CronScheduler
from rq.job import Job as QueuedJob

from portal.db import session_scope
from portal.jobs.registry import JOBS
from portal.jobs.runner import RETRY_DELAYS, keep_failure, run_job

QUEUE_NAME = "portal"
CRON_LOCK = "portal:jobs:cron"
CRON_LOCK_SECONDS = 120  # a worker that dies frees the cron scheduler within this
JOB_TIMEOUT_SECONDS = 15 * 60
_bound: dict[str, Flask] = {}  # the app the worker's jobs run in


def bind(app: Flask) -> None:
    """Run queued jobs in ``app`` (the worker's own)."""
    _bound["app"] = app


def connect(url: str) -> Redis:
    return Redis.from_url(url)


def enqueue(
    connection: Redis, name: str, now: datetime | None = None, retry: Retry | None = None
) -> QueuedJob:
    """Put the job ``name`` on the queue, with its retries (``now``: the job's clock)."""
    retry = retry or Retry(max=len(RETRY_DELAYS), interval=list(RETRY_DELAYS))
    return Queue(QUEUE_NAME, connection=connection).enqueue(
        run_queued,
        args=(name, now.isoformat() if now else None),
        retry=retry,
        job_timeout=JOB_TIMEOUT_SECONDS,
        description=f"portal job {name}",
        meta={"tries": retry.max + 1},
    )


def dispatch(name: str) -> str:
    """What the cron scheduler enqueues at each interval: the job, with its retries."""
    return enqueue(get_current_job().connection, name).id


def run_queued(name: str, now: str | None = None) -> str:
    app = _bound.get("app") or current_app._get_current_object()
    try:
        return run_job(app, name, datetime.fromisoformat(now) if now else None)
    except Exception as error:
        job = get_current_job()
        if job is None or not job.retries_left:  # the last try: keep it for the admins
            tries = job.meta.get("tries", 1) if job else 1
            with app.app_context(), session_scope(app) as session:
                keep_failure(session, name, error, tries, "rq")
        raise


def _hold(lock) -> bool:
    try:
        if lock.owned():
            lock.reacquire()
            return True
    except LockError:
        pass
    return lock.acquire(blocking=False)


def schedule(connection: Redis, stop: threading.Event) -> None:
    """Enqueue each registered job at its interval while this worker holds the lock."""
    scheduler = CronScheduler(connection=connection)
    for job in JOBS.values():
        seconds = int(job.interval.total_seconds())
        scheduler.register(dispatch, QUEUE_NAME, args=(job.name,), interval=seconds, name=job.name)
    lock = connection.lock(CRON_LOCK, timeout=CRON_LOCK_SECONDS)
    while not stop.is_set():
        if _hold(lock):
            scheduler.enqueue_jobs()
        stop.wait(max(1.0, min(scheduler.calculate_sleep_interval(), CRON_LOCK_SECONDS / 4)))
    if lock.owned():
        lock.release()


def work(app: Flask, url: str, burst: bool = False) -> None:
    """Run the worker (and, unless ``burst``, the cron scheduler) until stopped."""
    bind(app)
    connection = connect(url)
    stop = threading.Event()
    if not burst:
        threading.Thread(target=schedule, args=(connection, stop), daemon=True).start()
    try:
        # SimpleWorker runs each job in this process, with this process's database pool
        # (a forked child would share the parent's connections). Run more workers for more.
        SimpleWorker([QUEUE_NAME], connection=connection).work(with_scheduler=True, burst=burst)
    finally:
        stop.set()
