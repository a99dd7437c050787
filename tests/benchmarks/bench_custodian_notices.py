"""Benchmark: sending the custodians' notices, per notice (sign, POST, log the attempt).

Not a test (pytest does not collect bench_*.py). Run it on demand:

    python tests/benchmarks/bench_custodian_notices.py [--notices 500]

A migrated SQLite database in a temporary folder, one fictional dataset whose endpoint
is a receiver on 127.0.0.1 (tests/receivers.py, verifying every signature with the
`standardwebhooks` library); the notices are queued, then deliver_due() sends them in
batches of 100, as the job does. Then the same with the receiver answering 500 (each
attempt logged and rescheduled), and with nothing listening (connection refused).
"""

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the receiver

from sqlmodel import Session

from portal import migrate
from portal.db import make_engine, utcnow
from portal.notify import custodians, webhooks
from portal.registry.models import Dataset

from receivers import Receiver

SECRET_KEY = "bench-secret-key"


def _round(engine, url: str, notices: int, fail: bool) -> tuple[float, int]:
    """Seconds to attempt ``notices`` queued notices once each, and how many arrived."""
    with Receiver() as receiver:
        receiver.fail_first = notices * 2 if fail else 0
        with Session(engine) as session:
            dataset = session.get(Dataset, 1)
            _, secret, _ = custodians.set_endpoint(
                session, dataset.id, url or receiver.url, SECRET_KEY, rotate=True
            )
            receiver.secret = secret
            for n in range(notices):
                custodians.enqueue(session, dataset.id, None, "access.started", {"n": n})
            session.commit()
        now = utcnow() + timedelta(days=3)  # after every earlier round's retries
        started = time.perf_counter()
        attempted = 0
        while attempted < notices:
            with Session(engine) as session:
                counts = webhooks.deliver_due(session, now, SECRET_KEY, allow_private=True)
                session.commit()
            if not sum(counts.values()):
                break
            attempted += sum(counts.values())
        elapsed = time.perf_counter() - started
        assert all(r.verified for r in receiver.received)
        return elapsed, len(receiver.received)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            session.add(Dataset(slug="bench-data", title="Bench data", custodian="Bench"))
            session.commit()
        for label, endpoint, fail in (
            ("receiver answers 204", "", False),
            ("receiver answers 500", "", True),
            ("nothing listening", "http://127.0.0.1:9/notices", False),
        ):
            elapsed, arrived = _round(engine, endpoint, args.notices, fail)
            per = elapsed / args.notices * 1000
            print(
                f"{label}: {args.notices} notices in {elapsed:.2f} s, {per:.1f} ms each "
                f"({arrived} reached the receiver)"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
