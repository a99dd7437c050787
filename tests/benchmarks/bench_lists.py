"""Benchmark: every list page at 1,000 and at 100,000 requests (issue 14).

    python tests/benchmarks/bench_lists.py                         # SQLite files, made here
    python tests/benchmarks/bench_lists.py --urls URL_1K URL_100K  # e.g. two PostgreSQL DBs

Not a test (pytest does not collect bench_*.py); run on demand. Each size's database is
filled by generate.py (or reused, if filled before). Each page is asked through the
Flask test client, signed in as the person it is for, the sizes taking turns call by
call so the shared machine's load weighs on both alike; p50 and p95 per size, and the
ratio of the p95s (goal: at most 2). Then --memory page requests (10,000) cycle through
every page in one process, and its resident memory is read (goal: below 300 MB).
"""

import argparse
import json
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("PORTAL_PASSWORD_HASH_PROFILE", "CHEAPEST")

from generate import fill

from portal import create_app, longlived
from portal.auth import service as auth
from portal.auth.models import RoleMembership, User
from portal.db import get_engine, session_scope, utcnow
from portal.requests.models import AccessRequest
from portal.transparency.dashboard import _KEPT as dashboard_figures

WARM_UP = 2
GOAL_RATIO, GOAL_MB = 2.0, 300


def people(app) -> dict[str, int]:
    """Whom each page is for: the first of each role (the representative and steward of
    the Nation whose data half the requests touch), the researcher filing one request in 200,
    and a steward of a small Nation."""
    first = sa.select(sa.func.min(RoleMembership.user_id))
    with app.app_context(), session_scope() as session:
        found = {
            role: session.exec(first.where(RoleMembership.role == role)).scalar()
            for role in ("admin", "coordinator", "researcher")
        }
        for role in ("steward", "representative"):
            held = first.where(RoleMembership.role == role, RoleMembership.nation_id == 1)
            found[role] = session.exec(held).scalar()
        small = first.where(RoleMembership.role == "steward", RoleMembership.nation_id == 2)
        found["small steward"] = session.exec(small).scalar()
        # A researcher with as many requests at either size: their home page is theirs.
        five = (
            sa.select(AccessRequest.researcher_id)
            .group_by(AccessRequest.researcher_id)
            .having(sa.func.count() == 5)
            .order_by(AccessRequest.researcher_id)
            .limit(1)
        )
        found["researcher with 5"] = session.exec(five).scalar()
    return found


def api_token(app, user_id: int) -> str:
    with app.app_context(), session_scope() as session:
        token, _ = auth.create_api_token(session, session.get(User, user_id), "bench")
    return token


def signed_in(app, user_id: int):
    """A test client whose session is this person's (as signing in leaves it)."""
    client = app.test_client()
    with app.app_context(), session_scope() as session:
        version = session.get(User, user_id).session_version
    with client.session_transaction() as cookie:
        cookie.update(
            _user_id=str(user_id),
            _fresh=True,
            session_version=version,
            signed_in_at=utcnow().timestamp(),
        )
    return client


class Size:
    """One database, its app, and a client per person."""

    def __init__(self, url: str, folder: Path) -> None:
        instance = Path(tempfile.mkdtemp(dir=folder))
        self.app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "DATABASE_URL": url,
                "INSTANCE_PATH": str(instance),
                "SESSION_COOKIE_SECURE": False,
                "MAIL_SEND_AFTER_REQUEST": False,
                "RATELIMIT_ENABLED": False,
            }
        )
        logging.getLogger("portal.request").setLevel(logging.WARNING)  # no line per request
        self.who = people(self.app)
        self.clients = {role: signed_in(self.app, uid) for role, uid in self.who.items()}
        self.tokens = {
            role: api_token(self.app, self.who[role]) for role in ("coordinator", "steward")
        }
        with self.app.app_context(), session_scope() as session:
            self.nation = session.exec(sa.text("SELECT slug FROM nation WHERE id = 1")).scalar()
            self.small = session.exec(sa.text("SELECT slug FROM nation WHERE id = 2")).scalar()
        self.cursors = {}  # each API list's second page, read once

    def api(self, role: str, query: dict) -> tuple[int, dict]:
        client = self.clients["researcher"]  # any client: the token says who
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        answer = client.get(f"/api/v1/requests?{urlencode(query)}", headers=headers)
        return answer.status_code, answer.get_json()

    def second_page(self, role: str, query: dict) -> dict:
        key = (role, tuple(sorted(query.items())))
        if key not in self.cursors:
            _, body = self.api(role, query)
            self.cursors[key] = {**query, "cursor": body["next_cursor"]}
        return self.cursors[key]


def pages(size: Size) -> dict[str, tuple[str, str]]:
    """Each list page: (who asks, path). API pages start with 'api:' (asked with a token)."""
    n, small = size.nation, size.small
    under_review = {"status": "under_review", "limit": 50}
    return {
        "home, coordinator": ("coordinator", "/"),
        "home, steward": ("steward", "/"),
        "home, representative": ("representative", "/"),
        "home, researcher (1 request in 200 is theirs)": ("researcher", "/"),
        "home, a researcher with 5 requests at either size": ("researcher with 5", "/"),
        "Nation's record (the Nation in half the requests)": (
            "representative",
            f"/nations/{n}/record",
        ),
        "Nation's record, a small Nation": ("small steward", f"/nations/{small}/record"),
        "dashboard (365 days)": ("coordinator", "/dashboard"),
        "dashboard (1,095 days)": ("coordinator", "/dashboard?window=1095"),
        "dashboard (365 days), recomputed (the first view after an event)": (
            "coordinator",
            "fresh:/dashboard",
        ),
        "people (administrators)": ("admin", "/admin/people"),
        "people, searched": ("admin", "/admin/people?q=person12"),
        "API requests, coordinator, first page": ("coordinator", "api:" + urlencode({"limit": 50})),
        "API requests, coordinator, under review": (
            "coordinator",
            "api:" + urlencode(under_review),
        ),
        "API requests, coordinator, under review, page 2": (
            "coordinator",
            "api2:" + json.dumps(under_review),
        ),
        "API requests, steward, first page": ("steward", "api:" + urlencode({"limit": 50})),
        "API requests, steward, active": ("steward", "api:" + urlencode({"status": "active"})),
    }


def ask(size: Size, who: str, path: str) -> None:
    if path.startswith("api2:"):
        query = size.second_page(who, json.loads(path[5:]))
        status, _ = size.api(who, query)
    elif path.startswith("api:"):
        client = size.clients[who]
        headers = {"Authorization": f"Bearer {size.tokens[who]}"}
        status = client.get(f"/api/v1/requests?{path[4:]}", headers=headers).status_code
    else:
        if path.startswith("fresh:"):  # as if something had just happened
            path = path.removeprefix("fresh:")
            dashboard_figures.clear()
        answer = size.clients[who].get(path)
        status = answer.status_code
    if status != 200:
        raise SystemExit(f"{who} {path}: {status}")


def measure(sizes: list[Size], repeat: int, only: str = "") -> dict[str, list[list[float]]]:
    found: dict[str, list[list[float]]] = {}
    for name in pages(sizes[0]):
        if only and not name.startswith(tuple(only.split(";"))):
            continue
        times: list[list[float]] = [[] for _ in sizes]
        for number in range(repeat + WARM_UP):
            order = list(enumerate(sizes)) if number % 2 else list(reversed(list(enumerate(sizes))))
            for index, size in order:
                who, path = pages(size)[name]
                started = time.perf_counter()
                ask(size, who, path)
                if number >= WARM_UP:
                    times[index].append((time.perf_counter() - started) * 1000)
        found[name] = times
        p95s = [p95(t) for t in times]
        print(
            f"{name}: "
            + ", ".join(f"{x:.1f} ms" for x in p95s)
            + f" (ratio {p95s[-1] / p95s[0]:.2f})",
            flush=True,
        )
    return found


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def memory(size: Size, requests: int) -> tuple[float, float]:
    """(resident MB after ``requests`` page requests in this process, its peak). The
    pages cycle, the home pages left out (seconds each here: see the table)."""
    names = [name for name in pages(size) if not name.startswith("home")]
    for number in range(requests):
        ask(size, *pages(size)[names[number % len(names)]])
        if (number + 1) % 500 == 0:
            print(f"{number + 1:,} page requests: RSS {_resident()[0]:.0f} MB", flush=True)
    return _resident()


def _resident() -> tuple[float, float]:
    status = Path("/proc/self/status").read_text()
    kb = {
        line.split(":")[0]: int(line.split()[1])
        for line in status.splitlines()
        if line.startswith(("VmRSS", "VmHWM"))
    }
    return kb["VmRSS"] / 1024, kb["VmHWM"] / 1024


def report(backend: str, labels: list[str], results, memory_line: str) -> str:
    """This backend's part of the BENCHMARKS.md section: the date, load, table, memory."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"### {backend.split()[0]}",
        "",
        f"{backend}, measured {time.strftime('%Y-%m-%d')}; load (1, 5, 15 min) at the end: {load}.",
        "",
        f"| page | p50 (p95) at {labels[0]} | p50 (p95) at {labels[1]} | ratio of p95s |",
        "|---|---:|---:|---:|",
    ]
    for name, times in results.items():
        cells = " | ".join(f"{statistics.median(t):.1f} ms ({p95(t):.1f})" for t in times)
        lines.append(f"| {name} | {cells} | {p95(times[1]) / p95(times[0]):.2f} |")
    return "\n".join([*lines, "", memory_line, ""])


def write_section(backend: str, part: str) -> None:
    """Replace this backend's part of the section (the other backend's stays)."""
    path = Path(__file__).resolve().parents[2] / "BENCHMARKS.md"
    text = path.read_text()
    section = re.compile(r"^## List pages at scale\n.*?(?=^## |\Z)", re.M | re.S)
    found = section.search(text)
    if found is None:
        raise SystemExit("BENCHMARKS.md has no '## List pages at scale' section to fill")
    old = found.group(0)
    mine = re.compile(rf"^### {backend}\n.*?(?=^### |\Z)", re.M | re.S)
    new = mine.sub(lambda _: part + "\n", old) if mine.search(old) else old.rstrip() + "\n\n" + part
    path.write_text(text.replace(old, new.rstrip("\n") + "\n\n"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[1_000, 100_000])
    parser.add_argument("--urls", nargs=2, help="a database per size (default: SQLite here)")
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--memory", type=int, default=10_000, help="page requests (0: skip)")
    parser.add_argument("--write", action="store_true", help="write BENCHMARKS.md")
    parser.add_argument(
        "--only", default="", help="only the pages whose names start so (a ; between several)"
    )
    args = parser.parse_args()
    urls = args.urls or [f"sqlite:///{Path.cwd() / f'bench-{n}.db'}" for n in args.sizes]
    for url, n in zip(urls, args.sizes, strict=True):
        started = time.perf_counter()
        made = "filled" if fill(url, n) else "reused"
        print(f"{made} {n:,} requests in {time.perf_counter() - started:.0f} s", flush=True)
    sizes = [Size(url, Path(tempfile.mkdtemp())) for url in urls]
    longlived.freeze()  # as each gunicorn worker does once the app is loaded
    dialect = get_engine(sizes[0].app).dialect
    version = ".".join(str(x) for x in dialect.server_version_info[:2])
    backend = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[dialect.name] + f" {version}"
    print(f"{backend}, load {os.getloadavg()[0]:.1f}", flush=True)
    results = measure(sizes, args.repeat, args.only) if args.repeat else {}
    memory_line = ""
    if args.memory:
        rss, peak = memory(sizes[-1], args.memory)
        memory_line = (
            f"Memory: after {args.memory:,} page requests at {args.sizes[1]:,} requests, "
            f"the process holds {rss:.0f} MB resident (peak {peak:.0f} MB; goal < {GOAL_MB} MB)."
        )
    labels = [f"{n:,} requests" for n in args.sizes]
    part = report(backend, labels, results, memory_line)
    print("\n" + part)
    if args.write:
        write_section(backend.split()[0], part)


if __name__ == "__main__":
    main()
