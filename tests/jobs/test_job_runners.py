"""The jobs run the same way inline (no Redis: inside `portal serve`, one process at a
time by a lease row) and under RQ (the real Redis, a SimpleWorker in burst mode); a job
that fails is retried, then kept as failed for administrators, never dropped."""

from datetime import timedelta

import pytest
from rq import Queue, Retry, SimpleWorker
from rq.registry import FinishedJobRegistry
from sqlmodel import select

from portal.db import session_scope, utcnow
from portal.jobs import inline, worker
from portal.jobs.models import FailedJob
from portal.jobs.registry import JOBS, Job
from portal.jobs.runner import RETRY_DELAYS

from helpers import race


class Flaky:
    """A job registered for the test: it fails until it is told to work."""

    def __init__(self):
        self.works = False
        self.runs = 0

    def __call__(self, session, now) -> str:
        self.runs += 1
        if not self.works:
            raise RuntimeError("the custodian's server is away")
        return "done"


@pytest.fixture
def flaky(monkeypatch):
    job = Flaky()
    monkeypatch.setitem(JOBS, "flaky", Job("flaky", job, timedelta(hours=1), "fails at first"))
    return job


def failed_rows(app) -> list[FailedJob]:
    with app.app_context(), session_scope() as session:
        rows = session.exec(select(FailedJob).order_by(FailedJob.id)).all()
        return [FailedJob(**row.model_dump()) for row in rows]


def test_inline_every_job_runs_at_its_interval_and_once_however_many_runners(app):
    now = utcnow()
    first = race(*[lambda: inline.run_due(app, now)] * 3)
    ran = [name for outcomes in first for name in outcomes]
    assert sorted(ran) == sorted(JOBS), "each job ran once, by one of the three runners"
    assert inline.run_due(app, now + timedelta(seconds=59)) == {}, "nothing is due yet"
    every_minute = sorted(n for n, job in JOBS.items() if job.interval == timedelta(minutes=1))
    assert "deliver_mail" in every_minute and len(every_minute) < len(JOBS)
    assert sorted(inline.run_due(app, now + timedelta(minutes=1))) == every_minute
    later = inline.run_due(app, now + timedelta(hours=6))
    assert sorted(later) == sorted(JOBS)


def test_inline_a_failing_job_is_retried_then_kept_for_administrators(app, runner, flaky):
    now = utcnow()
    for delay in (0, *RETRY_DELAYS):
        now += timedelta(seconds=delay)
        assert inline.run_due(app, now)["flaky"].startswith("failed")
        assert inline.run_due(app, now + timedelta(seconds=1)).get("flaky") is None
    [failed] = failed_rows(app)
    assert (failed.name, failed.attempts, failed.runner) == ("flaky", 4, "inline")
    assert "custodian's server is away" in failed.error
    listed = runner.invoke(args=["jobs", "list", "--failed"])
    assert f"job {failed.id}  flaky" in listed.output and "after 4 tries" in listed.output
    flaky.works = True
    retried = runner.invoke(args=["jobs", "retry", str(failed.id)])
    assert retried.exit_code == 0 and "flaky: done" in retried.output
    assert runner.invoke(args=["jobs", "list", "--failed"]).output.strip() == "Nothing failed."
    again = runner.invoke(args=["jobs", "retry", str(failed.id)])
    assert again.exit_code == 1 and "no failed job" in again.stderr


def test_under_rq_a_failing_job_is_retried_then_kept_for_administrators(
    app, flaky, redis_connection
):
    worker.bind(app)
    worker.enqueue(redis_connection, "flaky", retry=Retry(max=2))  # retried at once
    SimpleWorker([worker.QUEUE_NAME], connection=redis_connection).work(burst=True)
    assert flaky.runs == 3
    [failed] = failed_rows(app)
    assert (failed.name, failed.attempts, failed.runner) == ("flaky", 3, "rq")


def test_rq_cron_enqueues_every_job_and_the_worker_runs_them(app, redis_connection):
    import threading

    worker.bind(app)
    stop = threading.Event()  # every job is due on the scheduler's first pass
    scheduler = threading.Thread(target=worker.schedule, args=(redis_connection, stop))
    scheduler.start()
    queue = Queue(worker.QUEUE_NAME, connection=redis_connection)
    for _ in range(200):
        if len(queue) >= len(JOBS):
            break
        stop.wait(0.05)
    stop.set()
    scheduler.join()
    assert len(queue) == len(JOBS)
    SimpleWorker([worker.QUEUE_NAME], connection=redis_connection).work(burst=True)
    finished = FinishedJobRegistry(worker.QUEUE_NAME, connection=redis_connection)
    assert len(finished) == 2 * len(JOBS), "each dispatch, then each job it queued"
    assert failed_rows(app) == []


def test_the_worker_needs_redis(runner, app):
    app.config["REDIS_URL"] = None
    result = runner.invoke(args=["worker"])
    assert result.exit_code == 2 and "REDIS_URL is not set" in result.output


def test_expiry_by_the_worker_with_the_clock_moved_forward(app, flow, active, redis_connection):
    worker.bind(app)
    worker.enqueue(redis_connection, "expire_agreements", now=active.moment(-1))
    SimpleWorker([worker.QUEUE_NAME], connection=redis_connection).work(burst=True)
    assert flow.status(active.ref) == "active", "a day before the end, access goes on"
    worker.enqueue(redis_connection, "expire_agreements", now=active.moment(0))
    SimpleWorker([worker.QUEUE_NAME], connection=redis_connection).work(burst=True)
    assert flow.status(active.ref) == "expired"
