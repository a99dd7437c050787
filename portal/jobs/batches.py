"""A long job's work in batches, each committed: the job's own transaction cadence.

A job that walks a large portal (every waiting step, every term that ended) would
otherwise hold, for its whole run, the audit chain's head, which every workflow action
waits for, and on SQLite the write lock, which every writer waits for. Each item such
a job handles stands on its own (a reminder and its record; an expiry, a command through
perform()), so committing after every batch loses nothing: a failure rolls back the
batch in hand only, and the next run finds what is left still to do.
"""

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from flask import current_app
from sqlmodel import Session

BATCH = 200  # items a job handles in one transaction at most (the JOB_BATCH setting)
# A batch also ends once it has held the locks this long: items differ in cost (a reminder
# asks who may act and writes mail), and whoever waits should wait about this at most.
BATCH_SECONDS = 1.0
# SQLite keeps no queue for its write lock: a writer that finds it taken sleeps and tries
# again, at most 100 ms apart (its busy handler). A job that began its next batch at once
# would win the lock back every time and make every page that writes wait for its whole
# run (and fail after the 30 s busy timeout); so between batches it leaves the lock free
# for longer than one such sleep. PostgreSQL queues those who wait for a lock: no pause.
SQLITE_WRITERS_TURN = 0.15  # seconds
Item = TypeVar("Item")


def in_batches(session: Session, items: Iterable[Item], size: int | None = None) -> Iterator[Item]:
    """``items``, one by one, the session committed after each ``size`` of them have been
    handled (JOB_BATCH, else BATCH; 0: none, the whole run in one transaction) or once a
    batch has taken BATCH_SECONDS. The caller handles an item before asking for the
    next: that is when a batch ends."""
    if size is None:
        size = current_app.config.get("JOB_BATCH", BATCH)
    pause = SQLITE_WRITERS_TURN if session.get_bind().dialect.name == "sqlite" else 0
    handled, began = 0, time.monotonic()
    for item in items:
        yield item
        handled += 1
        if size and (handled == size or time.monotonic() - began >= BATCH_SECONDS):
            session.commit()
            time.sleep(pause)  # the lock is free: whoever waits for it takes it now
            handled, began = 0, time.monotonic()
