"""Benchmark: the transparency record's reads at 10k and at 2M audit events.

Not a test (pytest does not collect bench_*.py). Run it on demand:

    python tests/benchmarks/bench_record.py                      # SQLite, in a temporary folder
    python tests/benchmarks/bench_record.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB

Each size gets a database of its own (SQLite: a file; PostgreSQL: a schema bench_<size> in
the database given, dropped first and afterwards: use a database of your own). Each is
migrated, given a fictional registry, then events appended to the real hash chain (each
hash computed with portal.audit.chain, the append-only triggers in place). The services
the pages call are then timed, the sizes in turn call by call, so a shared machine's
changing load weighs on every size alike: p50 and p90 of many calls with random requests
and cursors, and the ratio between the largest and the smallest size.
"""

import argparse
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from generate import insert  # COPY on PostgreSQL, where row-by-row costs minutes at 2M
from sqlmodel import Session

from portal import migrate
from portal.audit.chain import event_hash
from portal.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent, AuditEventNation
from portal.audit.verify import verify_chain
from portal.auth.models import User
from portal.db import make_engine
from portal.registry.models import Dataset, DatasetNation, Framework, Nation
from portal.requests.models import AccessRequest, RequestDataset, RequestStatus
from portal.transparency import record
from portal.transparency.privacy import Sight
from portal.transparency.timeline import request_timeline

# A reader who sees every Nation's status and no Nation's deliberations (a coordinator).
COORDINATOR_SIGHT = Sight(viewer_id=0, insider_of=frozenset(), researcher=False)

# Which Nations a request touches: A and B often, C (the sparse Nation) in 2 requests in 100.
NATION_MIX, NATION_WEIGHTS = ((1,), (2,), (1, 2), (1, 3), (3,)), (30, 30, 38, 1, 1)
EVENTS_PER_REQUEST = 20  # on average; one request in 20 events is the long-timeline one
HOT_SHARE = 0.05
ACTIONS = ("request.submitted", "request.screened", "review.recorded", "decision.approved")
START = datetime(2026, 1, 1, tzinfo=UTC)
OCAP = Framework.OCAP
BATCH = 20_000


def database(base: str | None, folder: Path, size: int) -> str:
    """An empty, migrated database for one size."""
    if base is None:
        url = f"sqlite:///{folder / f'bench_{size}.db'}"
    else:
        schema = f"bench_{size}"
        engine = sa.create_engine(base)
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        engine.dispose()
        url = f"{base}?options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    return url


def drop_schemas(base: str, sizes: list[int]) -> None:
    engine = sa.create_engine(base)
    with engine.begin() as connection:
        for size in sizes:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS bench_{size} CASCADE")
    engine.dispose()


def registry(session: Session) -> list[int]:
    """Three fictional Nations, a dataset each, one researcher; returns the Nation ids."""
    session.add(User(id=1, email="bench@example.org", name="Bench (fictional)", password_hash="-"))
    for number, slug in enumerate(("bench-a", "bench-b", "bench-c"), start=1):
        session.add(Nation(id=number, slug=slug, name=f"{slug} (fictional)", framework=OCAP))
        session.add(Dataset(id=number, slug=f"{slug}-data", title=slug, custodian="fictional"))
    session.flush()  # no relationships tell the session to write these before the links
    for number in (1, 2, 3):
        session.add(DatasetNation(dataset_id=number, nation_id=number))
    session.add(AuditChainHead(id=1, last_event_id=0, last_hash=GENESIS_HASH))
    session.commit()
    return [1, 2, 3]


class Writer:
    """Appends requests and their events, the chain carried on from one call to the next."""

    def __init__(self, engine, seed: int = 7) -> None:
        self.engine, self.random = engine, random.Random(seed)
        self.requests: list[tuple[int, tuple[int, ...]]] = []  # (id, nation ids)
        self.last_id, self.last_hash = 0, GENESIS_HASH

    def add_requests(self, count: int) -> None:
        first = len(self.requests) + 1
        rows, links = [], []
        # Every column with the model's defaults, built once (a model per row costs minutes).
        template = AccessRequest(
            researcher_id=1, ref="", status=RequestStatus.UNDER_REVIEW, current_revision=1
        ).model_dump()
        for request_id in range(first, first + count):
            nations = self.random.choices(NATION_MIX, NATION_WEIGHTS)[0]
            self.requests.append((request_id, nations))
            ref, title = f"R-{request_id:09d}", f"Study {request_id} (fictional)"
            rows.append({**template, "id": request_id, "ref": ref, "title": title})
            links += [dict(request_id=request_id, dataset_id=n) for n in nations]
        with self.engine.begin() as connection:
            connection.execute(sa.insert(AccessRequest), rows)
            connection.execute(sa.insert(RequestDataset), links)

    def events(self, count: int, hot: int) -> Iterator[tuple[list[dict], list[dict]]]:
        events, links = [], []
        for _ in range(count):
            request_id, nations = (
                self.requests[hot - 1]
                if self.random.random() < HOT_SHARE
                else self.random.choice(self.requests)
            )
            event_id = self.last_id + 1
            row = dict(
                id=event_id,
                occurred_at=START + timedelta(seconds=event_id),
                actor_id=None,
                actor_label="system",
                action=ACTIONS[event_id % len(ACTIONS)],
                request_id=request_id,
                details={"n": event_id},
                client_address=None,
                prev_hash=self.last_hash,
            )
            content = {key: value for key, value in row.items() if key != "id"}
            row["hash"] = event_hash(event_id=event_id, nation_ids=nations, **content)
            self.last_id, self.last_hash = event_id, row["hash"]
            events.append(row)
            links += [dict(event_id=event_id, nation_id=n) for n in nations]
            if len(events) == BATCH:
                yield events, links
                events, links = [], []
        if events:
            yield events, links

    def grow_to(self, total: int) -> None:
        """Requests and events until the chain holds ``total`` events."""
        wanted = total // EVENTS_PER_REQUEST
        self.add_requests(wanted - len(self.requests))
        for events, links in self.events(total - self.last_id, hot=1):
            with self.engine.begin() as connection:
                insert(connection, AuditEvent.__tablename__, events)
                insert(connection, AuditEventNation.__tablename__, links)
        with self.engine.begin() as connection:
            connection.execute(
                sa.update(AuditChainHead).values(
                    last_event_id=self.last_id, last_hash=self.last_hash
                )
            )
            connection.exec_driver_sql("ANALYZE")  # planner statistics, as autovacuum would


def timed(
    engines: list, call: Callable[[Session, random.Random], object], repeat: int
) -> list[list[float]]:
    """Milliseconds per call for each engine, after a warm-up; the engines take turns,
    each call in a fresh session, the same random choices for each."""
    found: list[list[float]] = [[] for _ in engines]
    for number in range(repeat + 20):
        order = list(enumerate(engines))
        if number % 2:
            order.reverse()
        for index, engine in order:
            with Session(engine) as session:
                started = time.perf_counter()
                call(session, random.Random(number))
                elapsed = (time.perf_counter() - started) * 1000
            if number >= 20:
                found[index].append(elapsed)
    return found


def plans(engine, call: Callable[[Session, random.Random], object]) -> list[str]:
    """How the database runs the page queries (those with a LIMIT) of one call."""
    statements = []

    def capture(_connection, _cursor, statement, parameters, _context, _many) -> None:
        if "LIMIT" in statement:
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            call(session, random.Random(0))
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    explain = "EXPLAIN " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    lines = []
    with engine.connect() as connection:
        for statement, parameters in statements:
            for row in connection.exec_driver_sql(explain + statement, parameters):
                lines.append(re.sub(r"\s+\(cost=[^)]*\)", "", str(row[-1])))
    return lines


def scenarios() -> dict[str, Callable[[Session, random.Random], object]]:
    """The reads, each choosing what it reads from the database it is given."""

    def last(session) -> int:
        return session.get(AuditChainHead, 1).last_event_id

    def nation(session, rng):
        return session.get(Nation, rng.choice((1, 2)))

    def a_request(session, rng):  # not the long-timeline one (id 1)
        count = session.exec(sa.select(sa.func.max(AccessRequest.id))).scalar_one()
        return session.get(AccessRequest, rng.randrange(2, count + 1))

    def deep(session, rng) -> int:
        return rng.randrange(last(session) // 4, last(session) // 2)

    return {
        "request timeline, first page (a typical request)": lambda s, r: request_timeline(
            s, a_request(s, r), COORDINATOR_SIGHT
        ),
        "request timeline, a page deep in the long one": lambda s, r: request_timeline(
            s, s.get(AccessRequest, 1), COORDINATOR_SIGHT, after=deep(s, r)
        ),
        "Nation's record: events, newest page": lambda s, r: record.event_page(s, nation(s, r)),
        "Nation's record: events, a page deep in it": lambda s, r: record.event_page(
            s, nation(s, r), before=deep(s, r)
        ),
        "Nation's record: events, newest page, the sparse Nation": lambda s, r: record.event_page(
            s, s.get(Nation, 3)
        ),
        "Nation's record: requests, newest page": lambda s, r: record.request_page(s, nation(s, r)),
        "Nation's record: requests, newest page, the sparse Nation": lambda s, r: (
            record.request_page(s, s.get(Nation, 3))
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL (default: SQLite files)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 2_000_000])
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    sizes, folder = sorted(args.sizes), Path(tempfile.mkdtemp())
    engines = []
    for size in sizes:
        engine = make_engine(database(args.database_url, folder, size))
        with Session(engine) as session:
            registry(session)
        started = time.perf_counter()
        Writer(engine).grow_to(size)
        print(f"{size:,} events written in {time.perf_counter() - started:.0f} s", flush=True)
        if size <= 100_000:
            report = verify_chain(engine)
            assert report.intact, report.problem  # the hashes are the real chain's
        engines.append(engine)
    print(f"\n{engines[0].dialect.name}, {args.repeat} calls of each read at each size\n")
    print("| read | " + " | ".join(f"p50 (p90) at {s:,} events" for s in sizes) + " | ratio |")
    print("|---|" + "---|" * len(sizes) + "---|")
    explained: dict[str, list[str]] = {}
    for name, call in scenarios().items():
        times = timed(engines, call, args.repeat)
        p50s = [statistics.median(t) for t in times]
        cells = " | ".join(
            f"{p50:.2f} ms ({statistics.quantiles(t, n=10)[-1]:.2f})"
            for p50, t in zip(p50s, times, strict=True)
        )
        print(f"| {name} | {cells} | {p50s[-1] / p50s[0]:.2f} |", flush=True)
        explained[name] = plans(engines[-1], call)
    print(f"\nQuery plans at {sizes[-1]:,} events:")
    for name, lines in explained.items():
        print(f"\n{name}:\n" + "\n".join(f"    {line}" for line in lines))
    for engine in engines:
        engine.dispose()
    if args.database_url:
        drop_schemas(args.database_url, sizes)


if __name__ == "__main__":
    main()
