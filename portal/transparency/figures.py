"""The dashboard's figures, kept up to date from the audit record instead of recounted.

Each worker keeps, per database, what the dashboard needs of every submitted request
(its status, the Nations whose data it touches, its tracks' states, its stage
durations) and the counts made from them. Everything that changes a request writes an
audit event naming it, and events are appended one at a time under the chain head's
lock, so the events after the last one seen name every request that changed: only
those are read again, and their part of the counts is taken out and put back. A view
then costs what changed since the last one, not what the portal holds. The store is
read afresh when its last event is no longer in the record as it was (a restored or
emptied database) or a dataset changed (its Nations decide whose counts a request is in).
"""

import bisect
import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, select

from portal import longlived
from portal.agreements.gc_pause import collector_paused
from portal.audit.events import EventType
from portal.audit.models import AuditChainHead, AuditEvent
from portal.registry.models import DatasetNation
from portal.requests.models import AccessRequest, RequestDataset, RequestRevision, RequestStatus
from portal.requests.service import counted_link
from portal.reviews.models import NationTrack, TrackStatus
from portal.transparency.stages import STAGES, durations, stage_events_of

S = RequestStatus
# Events after which every request is read again: a dataset's Nations changed.
RELOAD_ON = frozenset({EventType.DATASET_CHANGED.value, EventType.DATASET_REGISTERED.value})
CHUNK = 2_000  # requests read per query
# A store of at least this many requests is left out of the cyclic collector (longlived).
FREEZE_ABOVE = 10_000
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RequestFacts:
    keys: tuple[tuple, ...]  # the counts it adds one to (``counted``)
    first_submitted: datetime | None
    durations: tuple[tuple[str, float], ...]  # (stage key, seconds) of finished stages


def counted(
    status: RequestStatus, nations: set[int], tracks: list[tuple[int, TrackStatus]]
) -> Iterator[tuple]:
    """The keys a request adds one to (dashboard.nation_counts reads them): its status;
    each Nation whose data it touches, with its status, except that a revoked request
    counts under the Nation that revoked it only; under review, each track's state."""
    yield ("status", status)
    if status != S.REVOKED:
        for nation_id in nations:
            yield ("nation", nation_id, status)
    else:
        for nation_id, track_status in tracks:
            if track_status == TrackStatus.REVOKED:
                yield ("nation", nation_id, S.REVOKED)
    if status == S.UNDER_REVIEW:
        for nation_id, track_status in tracks:
            yield ("waiting", nation_id, track_status)


_SHARED: dict = {}  # one object for each key and stage name, however many requests hold it


def _shared(value):
    return _SHARED.setdefault(value, value)


@dataclass
class Day:
    """The requests first submitted on one day, and their durations by stage."""

    requests: dict[int, RequestFacts] = field(default_factory=dict)
    values: dict[str, list[float]] = field(default_factory=lambda: {s.key: [] for s in STAGES})


@dataclass
class Store:
    last_event: tuple[int, str] = (-1, "")  # (id, hash) of the last event read
    facts: dict[int, RequestFacts] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    # By the day of the first submission: a window takes whole days' durations at once.
    days: dict[date, Day] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def filled(self) -> bool:
        return self.last_event[0] >= 0

    def put(self, request_id: int, facts: RequestFacts | None) -> None:
        if (old := self.facts.pop(request_id, None)) is not None:
            self.counts.subtract(old.keys)
            if old.first_submitted is not None:
                day = self.days[old.first_submitted.date()]
                del day.requests[request_id]
                for key, seconds in old.durations:
                    day.values[key].remove(seconds)
        if facts is not None:
            self.facts[request_id] = facts
            self.counts.update(facts.keys)
            if facts.first_submitted is not None:
                day = self.days.setdefault(facts.first_submitted.date(), Day())
                day.requests[request_id] = facts
                for key, seconds in facts.durations:  # kept sorted: a window's sort merges them
                    bisect.insort(day.values[key], seconds)

    def durations_since(self, since: datetime) -> tuple[int, dict[str, list[float]]]:
        """(how many requests were first submitted since ``since``, their durations)."""
        found: dict[str, list[float]] = {stage.key: [] for stage in STAGES}
        requests = 0
        for on, day in self.days.items():
            if on > since.date():
                requests += len(day.requests)
                for key, values in day.values.items():
                    found[key] += values
            elif on == since.date():  # the window starts within this day
                for facts in day.requests.values():
                    if facts.first_submitted >= since:
                        requests += 1
                        for key, seconds in facts.durations:
                            found[key].append(seconds)
        return requests, found


_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()


class NotReady(Exception):
    """The figures are being counted for the first time, by another thread."""


def store_for(session: Session) -> Store:
    """This database's store, brought up to date (callers hold ``store.lock`` to read it).

    A first count at 100,000 requests takes longer than a web request may (gunicorn ends
    a worker silent for a minute), so a worker makes it in the background as it starts
    (``fill_in_background``): while that runs, a caller gets NotReady instead of a wait.
    Once filled, a refresh reads only what changed, and callers wait for each other."""
    with _STORES_LOCK:
        store = _STORES.setdefault(database_of(session), Store())
    if not store.lock.acquire(blocking=store.filled):
        raise NotReady
    try:
        _refresh(session, store)
    finally:
        store.lock.release()
    return store


def fill_in_background(app) -> threading.Thread:
    """Count the figures of ``app``'s database in a thread of this process (a worker, as
    it starts), reading in a snapshot that takes no write lock."""
    from portal.db import READER_KEY

    def fill() -> None:
        try:
            with app.app_context(), Session(app.extensions[READER_KEY]) as session:
                store_for(session)
        except NotReady:  # a page began the count first: it is being made
            pass
        except Exception:  # the database is away: the first view counts instead
            log.exception("the dashboard's figures could not be counted at start")

    thread = threading.Thread(target=fill, name="portal-figures", daemon=True)
    thread.start()
    return thread


def database_of(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def forget() -> None:
    """Drop every store (the benchmarks time a first view this way)."""
    with _STORES_LOCK:
        _STORES.clear()


def _refresh(session: Session, store: Store) -> None:
    head = session.exec(select(AuditChainHead.last_event_id, AuditChainHead.last_hash)).first()
    head = tuple(head) if head else (0, "")
    if head == store.last_event:
        return
    last_id, last_hash = store.last_event
    still = session.exec(select(AuditEvent.hash).where(AuditEvent.id == last_id)).first()
    if last_id < 0 or head[0] < last_id or (last_id > 0 and still != last_hash):
        _reload(session, store, head)
        return
    changed = session.exec(
        select(AuditEvent.request_id, AuditEvent.action).where(
            AuditEvent.id > last_id, AuditEvent.id <= head[0]
        )
    ).all()
    if any(action in RELOAD_ON for _, action in changed):
        _reload(session, store, head)
        return
    _read(session, store, sorted({r for r, _ in changed if r is not None}))
    store.last_event = head


def _reload(session: Session, store: Store, head: tuple[int, str]) -> None:
    store.facts.clear()
    store.counts.clear()
    store.days.clear()
    ids = session.exec(select(AccessRequest.id).where(AccessRequest.status != S.DRAFT)).all()
    # Hundreds of thousands of small objects that reference counting frees: the cyclic
    # collector's passes over them would be a third of the work.
    with collector_paused():
        _read(session, store, sorted(ids))
    store.last_event = head
    if len(ids) >= FREEZE_ABOVE:
        longlived.freeze()  # half a million objects at 100,000 requests


def _read(session: Session, store: Store, request_ids: list[int]) -> None:
    for start in range(0, len(request_ids), CHUNK):
        chunk = request_ids[start : start + CHUNK]
        found = _facts(session, chunk)
        for request_id in chunk:
            store.put(request_id, found.get(request_id))


def _facts(session: Session, ids: list[int]) -> dict[int, RequestFacts]:
    """The facts of the submitted ones of ``ids`` (drafts are never counted)."""

    def among(column):
        return column.in_(ids)

    statuses = dict(
        session.exec(
            select(AccessRequest.id, AccessRequest.status).where(
                among(AccessRequest.id), AccessRequest.status != S.DRAFT
            )
        ).all()
    )
    if not statuses:
        return {}
    ids = list(statuses)
    nations = _grouped(
        session.exec(
            select(RequestDataset.request_id, DatasetNation.nation_id)
            .join(DatasetNation, DatasetNation.dataset_id == RequestDataset.dataset_id)
            .where(among(RequestDataset.request_id), counted_link())
        )
    )
    tracks = _grouped(
        session.exec(
            select(NationTrack.request_id, NationTrack.nation_id, NationTrack.status)
            .where(among(NationTrack.request_id))
            .order_by(NationTrack.id)
        )
    )
    first = dict(
        session.exec(
            select(RequestRevision.request_id, RequestRevision.submitted_at).where(
                among(RequestRevision.request_id), RequestRevision.number == 1
            )
        ).all()
    )
    events = stage_events_of(session, ids)
    found = {}
    for request_id, status in statuses.items():
        timed = durations(events.get(request_id, []), status)
        held = tracks.get(request_id, [])
        touched = {n for (n,) in nations.get(request_id, [])}
        found[request_id] = RequestFacts(
            keys=tuple(_shared(key) for key in counted(status, touched, held)),
            first_submitted=first.get(request_id),
            durations=tuple(
                (_shared(key), seconds) for key, values in timed.items() for seconds in values
            ),
        )
    return found


def _grouped(rows: Iterable) -> dict[int, list[tuple]]:
    found: dict[int, list[tuple]] = {}
    for request_id, *rest in rows:
        found.setdefault(request_id, []).append(tuple(rest))
    return found
