"""Parallel writers: real concurrent transactions append to one valid chain.

On PostgreSQL each append locks the chain head row; on SQLite every transaction
takes the write lock when it begins. Either way no two events get the same place.
"""

import threading

import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.audit.service import record_event
from portal.audit.verify import verify_chain
from portal.db import get_engine, session_scope

WRITERS = 4
EVENTS_EACH = 25


def test_parallel_writers_keep_one_valid_chain(app):
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            start.wait()
            for number in range(EVENTS_EACH):
                with session_scope(app) as session:  # one transaction per event
                    record_event(
                        session,
                        action="test.parallel",
                        actor=None,
                        details={"writer": writer, "n": number},
                    )
        except BaseException as error:  # reported below, with the others
            failures.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    report = verify_chain(get_engine(app))
    assert report.problem is None
    assert report.events == WRITERS * EVENTS_EACH
    events = AuditEvent.__table__
    with get_engine(app).connect() as connection:
        query = sa.select(events.c.details).where(events.c.action == "test.parallel")
        details = connection.execute(query.order_by(events.c.id)).scalars()
        details = list(details)
    # Each writer's events are in the chain in the order it wrote them.
    for writer in range(WRITERS):
        numbers = [d["n"] for d in details if d["writer"] == writer]
        assert numbers == list(range(EVENTS_EACH))
