"""Benchmark: reading and writing a file through the shared storage (portal/storage),
against what agreements did before: a file in the instance folder, read and hashed.

Not a test (pytest does not collect bench_*.py). Run it on demand:

    python tests/benchmarks/bench_storage.py                      # SQLite, in a temporary folder
    python tests/benchmarks/bench_storage.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB

PostgreSQL: the database given is migrated, and its stored_file rows are removed
afterwards (use a database of your own). Sizes: a signed agreement's (about 100 KB) and
a large output's (10 MB). Each round, in turn: get (one transaction, digest checked),
the old read (read_bytes and SHA-256), and put of new bytes (one committed transaction).
Figures: p50 and p90 wall milliseconds.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlmodel import Session, delete

from portal import migrate
from portal.db import make_engine
from portal.storage import service as storage
from portal.storage.models import StoredFile

SIZES = {"100 KB": 100 * 1024, "10 MB": 10 * 1024 * 1024}


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def rounds_of(engine, folder: Path, size: int, rounds: int) -> dict[str, list[float]]:
    data = os.urandom(size)
    with Session(engine) as session:
        digest = storage.put(session, data, "application/pdf")
        session.commit()
    path = folder / f"{digest}.pdf"
    path.write_bytes(data)
    times: dict[str, list[float]] = {"get": [], "old file read": [], "put": []}

    def get() -> None:
        with Session(engine) as session:
            storage.get(session, digest)

    def old_read() -> None:
        assert storage.digest_of(path.read_bytes()) == digest

    fresh: list[bytes] = []

    def put() -> None:
        with Session(engine) as session:
            storage.put(session, fresh.pop(), "application/pdf")
            session.commit()

    for _ in range(rounds):
        fresh.append(os.urandom(size))  # new bytes each round, made before the clock starts
        for name, call in (("get", get), ("old file read", old_read), ("put", put)):
            times[name].append(timed(call))
    return times


def measure(url: str, folder: Path, rounds: int) -> dict[str, dict[str, list[float]]]:
    migrate.upgrade(url, instance=folder)
    engine = make_engine(url)
    try:
        return {label: rounds_of(engine, folder, size, rounds) for label, size in SIZES.items()}
    finally:
        with Session(engine) as session:
            session.exec(delete(StoredFile))
            session.commit()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=30)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        results = measure(url, Path(folder), arguments.rounds)
    print(f"{url.split(':')[0]}, {arguments.rounds} rounds: p50 / p90 ms")
    for label, times in results.items():
        cells = []
        for name, values in times.items():
            p90 = statistics.quantiles(values, n=10)[-1]
            cells.append(f"{name} {statistics.median(values):.2f} / {p90:.2f}")
        print(f"  {label}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
