"""Benchmark: how long a signature holds the write lock, signed inside the write
transaction (a Sign without a signature, as before issue 14) or ahead of it
(perform_ahead, as the page and the API now sign).

Times are wall seconds from the write transaction's first statement to its commit on
an SQLite file: what another writer waits. Each round signs a fresh two-Nation
agreement both ways in turn, so load on the shared machine slows both alike.

Run on demand (pytest does not collect bench_*.py):

    python tests/benchmarks/bench_signing_lock.py [--rounds N]

It prints the figures BENCHMARKS.md quotes ("## Signing and the write lock").
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portal import create_app, migrate  # noqa: E402
from portal.db import session_scope  # noqa: E402
from portal.policy.sync import load_files  # noqa: E402
from portal.workflow import Sign, perform, perform_ahead  # noqa: E402

from flows import Flow, seed_people  # noqa: E402
from helpers import PASSWORD, seed_nations  # noqa: E402


def make_app(folder: Path):
    url = f"sqlite:///{folder / 'portal.db'}"
    migrate.upgrade(url)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "benchmark secret",
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(folder),
            "MAIL_SEND_AFTER_REQUEST": False,
        }
    )
    with app.app_context(), session_scope() as session:
        load_files(session)
    seed_nations(app)
    seed_people(app)
    return app


def held(app, flow: Flow, ref: str, ahead: bool) -> float:
    """Seconds from the write transaction's first statement to its commit."""
    command = Sign(password=PASSWORD)
    if ahead:
        with app.app_context(), session_scope() as session:
            command = perform_ahead(session, flow.user(session, "researcher"), ref, command)
    with app.app_context(), session_scope() as session:
        start = time.perf_counter()
        perform(session, flow.user(session, "researcher"), ref, command)
        session.commit()
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    app = make_app(Path(tempfile.mkdtemp()))
    flow = Flow(app)
    held(app, flow, flow.approved(), ahead=False)  # warm up: the CA, fonts, credentials
    figures: dict[str, list[float]] = {"inside": [], "ahead": []}
    for _ in range(rounds):
        for name in figures:
            figures[name].append(held(app, flow, flow.approved(), ahead=name == "ahead"))
    print(f"rounds: {rounds}; the researcher's signature on a fresh agreement")
    print(f"{'signed':<10}{'best ms':>9}{'median ms':>11}")
    for name, times in figures.items():
        print(f"{name:<10}{min(times) * 1000:>9.1f}{statistics.median(times) * 1000:>11.1f}")
    ratio = statistics.median(figures["inside"]) / statistics.median(figures["ahead"])
    print(f"write lock held: {ratio:.1f}x shorter when signed ahead (medians)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
