"""Benchmark: resident memory of each gunicorn worker after 10,000 page requests (issue 14:
goal below 300 MB), on a database generate.py filled.

    python tests/benchmarks/generate.py --requests 100000 --database-url URL
    python tests/benchmarks/bench_memory.py --database-url URL [--requests 10000]

Not a test (pytest does not collect bench_*.py); run on demand. The portal runs under
gunicorn with portal/gunicorn_conf.py's settings and 2 workers; 4 connections ask
every list page of bench_lists.py in turn, each as the person it is for (a session cookie,
or an API token), in batches of --batch requests; after each batch the resident memory
(VmRSS) of each worker is read from /proc. It prints one line per batch and the table.
"""

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests as http

sys.path.insert(0, str(Path(__file__).parent))

from bench_lists import Size, pages, signed_in
from bench_throughput import SECRET_KEY, gunicorn, load_average, stop

GOAL_MB = 300
FIGURES_WAIT_SECONDS = 1800
CONNECTIONS = 4  # as bench_throughput drives wrk


def cookie_of(size: Size, role: str) -> str:
    """The session cookie the bench's test client holds for ``role`` (the same secret
    key as the gunicorn workers, so they read it as that person signed in)."""
    client = size.clients[role]
    cookie = client.get_cookie(size.app.config.get("SESSION_COOKIE_NAME", "session"))
    return f"{cookie.key}={cookie.value}"


def requests_of(size: Size) -> list[tuple[str, dict[str, str]]]:
    """Each list page once: its path and the headers that say who asks."""
    found = []
    for who, path in pages(size).values():
        if path.startswith("api2:"):
            continue  # a second page's cursor is read once; the first pages stand for it
        if path.startswith("api:"):
            headers = {"Authorization": f"Bearer {size.tokens[who]}"}
            found.append((f"/api/v1/requests?{path[4:]}", headers))
        else:
            found.append((path.removeprefix("fresh:"), {"Cookie": cookie_of(size, who)}))
    return found


def run_batch(base: str, requests: list[tuple[str, dict[str, str]]], count: int, turn: int):
    """``count`` requests, the pages in turn from ``turn``, on CONNECTIONS connections at
    once (wrk stops after a time, not a count, so a counted client it is)."""
    queue = iter(range(turn, turn + count))
    lock, failed = threading.Lock(), []

    def client() -> None:
        with http.Session() as connection:
            while True:
                with lock:
                    number = next(queue, None)
                if number is None:
                    return
                path, headers = requests[number % len(requests)]
                answer = connection.get(base + path, headers=headers, timeout=120)
                if answer.status_code != 200:
                    failed.append((path, answer.status_code))

    threads = [threading.Thread(target=client) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed:
        raise SystemExit(f"pages failed: {failed[:5]}")


def wait_for_the_figures(base: str, requests: list[tuple[str, dict[str, str]]]) -> float:
    """Each worker counts the dashboard's figures as it starts and answers 503 until it
    has (portal/transparency/figures.py): wait until the dashboard answers 200 four times
    in a row (both workers), so the batches measure the figures held. Seconds waited."""
    path, headers = next((p, h) for p, h in requests if p.startswith("/dashboard"))
    started, in_a_row = time.monotonic(), 0
    with http.Session() as connection:
        while in_a_row < 4:
            if time.monotonic() - started > FIGURES_WAIT_SECONDS:
                raise SystemExit("the dashboard's figures were not counted in time")
            answer = connection.get(base + path, headers=headers, timeout=120)
            in_a_row = in_a_row + 1 if answer.status_code == 200 else 0
            if answer.status_code == 503:
                time.sleep(int(answer.headers.get("Retry-After", "5")))
    return time.monotonic() - started


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def resident_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a database generate.py filled")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    size = Size(args.database_url, folder)
    size.app.config["SECRET_KEY"] = SECRET_KEY
    size.clients = {role: signed_in(size.app, uid) for role, uid in size.who.items()}
    requests = requests_of(size)
    process, base = gunicorn("portal:create_app()", args.database_url, folder)
    lines = [f"load (1, 5, 15 min) before: {load_average()}"]
    try:
        waited = wait_for_the_figures(base, requests)
        line = f"the dashboard's figures counted at the workers' start in {waited:.0f} s"
        print(line, flush=True)
        lines.append(line)
        for done in range(0, args.requests, args.batch):
            run_batch(base, requests, min(args.batch, args.requests - done), done)
            rss = [resident_mb(pid) for pid in workers_of(process.pid)]
            line = f"{done + args.batch:,} requests: " + ", ".join(f"{mb:.0f} MB" for mb in rss)
            print(line, flush=True)
            lines.append(line)
    finally:
        stop(process)
    lines.append(f"load after: {load_average()}; {len(requests)} pages in turn; goal {GOAL_MB} MB")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
