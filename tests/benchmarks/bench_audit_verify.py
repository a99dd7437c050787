"""Benchmark: `portal audit verify` over a long audit record.

    python tests/benchmarks/bench_audit_verify.py [--events N] [--database-url URL]

Without --database-url it uses a new SQLite file in a temporary folder. A
--database-url names an empty database (it is migrated and filled here), or one an
earlier run filled (then only verify is timed again). The events are
made fictional and in bulk (the chain computed exactly as the portal does, 1-2
Nations each, half with a request), then `portal audit verify` runs as a separate
process, as an operator would run it, and is timed (best of --runs). Its start-up
(Python, imports, the app) is timed apart, with `portal audit verify --help`, so
the projection to 2,000,000 events scales only the walk.
"""

import argparse
import itertools
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from portal import migrate
from portal.audit.chain import event_hash
from portal.audit.models import AuditChainHead, AuditEvent, AuditEventNation
from portal.auth import service as auth
from portal.db import json_text, make_engine, utcnow
from portal.registry import service as registry
from portal.workflow import create_draft

BATCH = 10_000
COLUMNS = ("id", "occurred_at", "actor_id", "actor_label", "action", "request_id", "details",
           "client_address", "prev_hash", "hash")  # fmt: skip
GOAL_EVENTS, GOAL_SECONDS = 2_000_000, 30.0


def seed(engine) -> tuple[int, int, list[int]]:
    """A person, a request and three Nations (each writes its own events first)."""
    with Session(engine) as session:
        nations = [
            registry.create_nation(session, f"bench-{n}", f"Bench Nation {n} (fictional)", "OCAP")
            for n in range(3)
        ]
        user = auth.create_user(session, "bench@example.org", "Bench (fictional)", "x" * 12)
        request = create_draft(session, user, {"title": "Benchmark request (fictional)"})
        ids = (user.id, request.id, [n.id for n in nations])
        session.commit()
    return ids


def fictional_events(first_id: int, count: int, prev_hash: str, user_id, request_id, nation_ids):
    """(event row, nation ids) for events first_id.., chained from prev_hash."""
    start = utcnow() - timedelta(days=365)
    for event_id in range(first_id, first_id + count):
        concerned = nation_ids[event_id % 3 : event_id % 3 + 1 + event_id % 2]
        row = dict(
            occurred_at=start + timedelta(seconds=event_id, microseconds=event_id % 997),
            actor_id=user_id,
            actor_label="bench@example.org",
            action="request.reviewed",
            request_id=request_id if event_id % 2 else None,
            details={
                "recommendation": "approve",
                "comment": "Fictional review.",
                "revision": event_id % 7,
            },
            client_address="192.0.2.10",
            prev_hash=prev_hash,
        )
        row["hash"] = prev_hash = event_hash(event_id=event_id, nation_ids=concerned, **row)
        yield {"id": event_id, **row}, concerned


def bulk_events(engine, count: int) -> None:
    user_id, request_id, nation_ids = seed(engine)
    write = _copy if engine.dialect.name == "postgresql" else _insert
    with engine.begin() as connection:
        head = connection.execute(sa.select(AuditChainHead.__table__)).one()
        made = fictional_events(
            head.last_event_id + 1, count, head.last_hash, user_id, request_id, nation_ids
        )
        while batch := list(itertools.islice(made, BATCH)):
            write(connection, batch)
            last = batch[-1][0]
        connection.execute(
            sa.update(AuditChainHead.__table__).values(
                last_event_id=last["id"], last_hash=last["hash"]
            )
        )


def _insert(connection, batch) -> None:
    connection.execute(sa.insert(AuditEvent.__table__), [row for row, _ in batch])
    links = [{"event_id": row["id"], "nation_id": n} for row, ns in batch for n in ns]
    connection.execute(sa.insert(AuditEventNation.__table__), links)


def _copy(connection, batch) -> None:
    """PostgreSQL's COPY; the details go in as canonical JSON text, as the portal stores them."""
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY audit_event ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for row, _ in batch:
            copy.write_row([json_text(row[c]) if c == "details" else row[c] for c in COLUMNS])
    with cursor.copy("COPY audit_event_nation (event_id, nation_id) FROM STDIN") as copy:
        for row, concerned in batch:
            for nation_id in concerned:
                copy.write_row((row["id"], nation_id))


def run_portal(url: str, *arguments: str) -> tuple[float, float, str]:
    """Run the ``portal`` command: (wall-clock seconds, its CPU seconds, its output).
    The CPU time does not depend on what else the shared machine is doing."""
    environment = dict(os.environ, DATABASE_URL=url)
    cpu_before = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        [str(Path(sys.executable).with_name("portal")), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
    if result.returncode != 0:
        raise SystemExit(f"portal {' '.join(arguments)} failed: {result.stderr.strip()}")
    return elapsed, cpu, result.stdout.strip()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--runs", type=int, default=3, help="runs of verify; the best counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        migrate.upgrade(url)
        engine = make_engine(url)
        with engine.connect() as connection:
            present = connection.execute(
                sa.select(sa.func.count()).select_from(AuditEvent)
            ).scalar()
        if present:  # filled by an earlier run: time verify again
            print(f"{present:,} events there already: timing verify only")
            events = present
        else:
            started = time.perf_counter()
            bulk_events(engine, args.events)
            inserted = time.perf_counter() - started
            print(f"inserted {args.events:,} events in {inserted:.1f} s")
            events = args.events
        if engine.dialect.name == "postgresql":  # the steady state of a live database
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        engine.dispose()
        # The fixed cost of any command (Python, imports, the app), then the real thing;
        # best of a few runs, as the machine is shared.
        startup, startup_cpu, _ = min(
            run_portal(url, "audit", "verify", "--help") for _ in range(args.runs)
        )
        seconds, cpu, summary = min(run_portal(url, "audit", "verify") for _ in range(args.runs))
    walk = seconds - startup
    projected = startup + walk * GOAL_EVENTS / events
    load = ", ".join(f"{each:.1f}" for each in os.getloadavg())
    print(f"backend: {engine.dialect.name}; machine load (1, 5, 15 min): {load}")
    print(
        f"portal audit verify: {summary!r} in {seconds:.2f} s, CPU {cpu:.2f} s "
        f"(start-up {startup:.2f} s, CPU {startup_cpu:.2f} s; "
        f"walk {walk:.2f} s: {events / walk:,.0f} events/s)"
    )
    print(
        f"for {GOAL_EVENTS:,} events: {projected:.1f} s "
        f"(goal {GOAL_SECONDS:.0f} s: ratio {projected / GOAL_SECONDS:.2f})"
    )


if __name__ == "__main__":
    main()
