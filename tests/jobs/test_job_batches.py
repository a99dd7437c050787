"""A job that walks the whole portal commits a batch at a time (portal/jobs/batches.py):
what it did before a failure is kept, the batch in hand is rolled back, and the next run
does the rest. The failure is the database's own: a trigger refuses one reminder."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.audit.verify import verify_chain
from portal.db import get_engine, session_scope, utcnow
from portal.jobs.batches import in_batches
from portal.jobs.runner import run_job
from portal.notify.models import Reminder
from portal.requests.models import AccessRequest


@contextmanager
def reminder_refused_for(app, ref: str) -> Iterator[None]:
    """While the block runs, the database refuses to record a reminder about ``ref``."""
    engine = get_engine(app)
    with app.app_context(), session_scope() as session:
        request_id = session.exec(select(AccessRequest.id).where(AccessRequest.ref == ref)).one()
    if engine.dialect.name == "postgresql":
        install = [
            "CREATE FUNCTION refuse_reminder() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.request_id = {request_id} THEN RAISE EXCEPTION 'refused by the test'; "
            "END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_reminder BEFORE INSERT ON reminder "
            "FOR EACH ROW EXECUTE FUNCTION refuse_reminder()",
        ]
        remove = [
            "DROP TRIGGER IF EXISTS refuse_reminder ON reminder",
            "DROP FUNCTION IF EXISTS refuse_reminder()",
        ]
    else:
        install = [
            "CREATE TRIGGER refuse_reminder BEFORE INSERT ON reminder "
            f"WHEN NEW.request_id = {request_id} "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        ]
        remove = ["DROP TRIGGER IF EXISTS refuse_reminder"]
    with engine.begin() as connection:
        for statement in install:
            connection.exec_driver_sql(statement)
    try:
        yield
    finally:
        with engine.begin() as connection:
            for statement in remove:
                connection.exec_driver_sql(statement)


def reminded(app) -> set[str]:
    """The references of the requests a reminder was recorded (and audited) for."""
    with app.app_context(), session_scope() as session:
        kept = session.exec(
            select(AccessRequest.ref).join(Reminder, Reminder.request_id == AccessRequest.id)
        ).all()
        audited = session.exec(
            select(AccessRequest.ref)
            .join(AuditEvent, AuditEvent.request_id == AccessRequest.id)
            .where(AuditEvent.action == "reminder.sent")
        ).all()
    assert sorted(kept) == sorted(audited), "each reminder kept is audited, and no other"
    return set(kept)


def test_a_failing_reminder_keeps_the_batches_before_it_and_the_next_run_does_the_rest(app, flow):
    refs = [flow.draft(title=f"Waiting {number}") for number in range(3)]
    for ref in refs:
        flow.do("researcher", "submit", ref)  # each waits for screening, read in this order
    later = utcnow() + timedelta(days=8)  # past the 7 days screening may wait
    app.config["JOB_BATCH"] = 1

    with reminder_refused_for(app, refs[2]), pytest.raises(sa.exc.DatabaseError):
        run_job(app, "reminders", later)
    assert reminded(app) == set(refs[:2])  # the first two batches were committed
    assert verify_chain(get_engine(app)).problem is None

    assert run_job(app, "reminders", later) == "1 reminder(s) queued"  # the one left
    assert reminded(app) == set(refs)
    assert verify_chain(get_engine(app)).problem is None


def test_in_one_batch_a_failure_keeps_nothing(app, flow):
    """JOB_BATCH 0: the whole run is one transaction, as every job was before."""
    refs = [flow.draft(title=f"Waiting {number}") for number in range(3)]
    for ref in refs:
        flow.do("researcher", "submit", ref)
    app.config["JOB_BATCH"] = 0
    with reminder_refused_for(app, refs[2]), pytest.raises(sa.exc.DatabaseError):
        run_job(app, "reminders", utcnow() + timedelta(days=8))
    assert reminded(app) == set()


def job_and_page(app, items: int, size: int, work: float = 0.05) -> list[str]:
    """A job writing ``items`` in batches of ``size`` (each item's work holding the write
    lock ``work`` seconds), and a page's action asking for the lock meanwhile, in a
    connection of its own: in which order they wrote."""
    engine = get_engine(app)
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL queues those who wait for a lock")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE turns (who TEXT)")
    order: list[str] = []
    job_holds_the_lock = threading.Event()

    def another_writer() -> None:
        job_holds_the_lock.wait()
        with session_scope(app) as session:  # BEGIN IMMEDIATE: waits for the lock
            session.execute(sa.text("INSERT INTO turns VALUES ('page')"))
        order.append("page")

    page = threading.Thread(target=another_writer)
    page.start()
    with session_scope(app) as session:
        for number in in_batches(session, range(items), size=size):
            session.execute(sa.text("INSERT INTO turns VALUES (:who)"), {"who": f"job {number}"})
            order.append(f"job {number}")
            job_holds_the_lock.set()
            time.sleep(work)
    page.join(timeout=30)
    assert "page" in order
    return order


def test_on_sqlite_a_writer_waiting_for_the_lock_takes_it_between_two_batches(app):
    """SQLite's writers poll for the lock: without a pause between batches the job would
    take it back at once, and a page that writes would wait for the whole run."""
    order = job_and_page(app, items=6, size=2)
    assert order.index("page") < order.index("job 5"), order  # not after the whole run


def test_a_batch_ends_once_it_has_held_the_lock_for_a_second(app):
    """However many items a batch may hold, whoever waits waits about BATCH_SECONDS."""
    order = job_and_page(app, items=60, size=1000)  # 3 s of work, one batch by count
    assert order.index("page") < order.index("job 59"), order
