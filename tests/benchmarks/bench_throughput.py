"""Benchmark: a signed-in page's throughput against a bare Flask + SQLAlchemy route's, both
under gunicorn in the same run (goal: at least 33%), what the page costs and where, and
the page's p95 while agreements are being signed (goal: at most 2x idle). Writes the
"Signed-in page throughput" section of BENCHMARKS.md.

    python tests/benchmarks/bench_throughput.py [--database-url URL] [--seconds S] [--quick]

One database (a new SQLite file, or an empty PostgreSQL database you own) is migrated and
seeded with the tests' fictional people and Nations and requests in every state. Each app
runs under gunicorn with portal/gunicorn_conf.py's settings and 2 workers; wrk drives
them (apt-get install wrk), the two in turns, so the machine's load falls on both alike.
The breakdown is taken in this process with cProfile over the same pages (test client),
with every SQL statement counted and timed. The signing load: a loop that signs agreements
through the API (`POST /api/v1/requests/{ref}/actions/sign`, the real sign path, in the
same gunicorn) while wrk reads the page.
"""

import argparse
import cProfile
import json
import logging
import os
import platform
import pstats
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests as http

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("PORTAL_PASSWORD_HASH_PROFILE", "CHEAPEST")  # as the tests seed

import sqlalchemy as sa  # noqa: E402

from portal import create_app, migrate  # noqa: E402
from portal.auth import service as auth  # noqa: E402
from portal.db import session_scope  # noqa: E402
from portal.policy.sync import load_files  # noqa: E402

from flows import PEOPLE, Flow  # noqa: E402
from helpers import PASSWORD, csrf_token, seed_nations, seed_people  # noqa: E402
from report import write_section  # noqa: E402

SECTION = "## Signed-in page throughput"
SECRET_KEY = "bench-throughput-secret"
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %f, "errors": %d, "non2xx": %d,'
    .. ' "p50": %f, "p95": %f, "p99": %f}\\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3))
end
"""


def seed(url: str, folder: Path, signing: int) -> tuple:
    """The tests' people and Nations; requests in every state the home page shows, and
    ``signing`` approved ones waiting for their three signatures. The app, a request page's
    reference, and the references awaiting signatures."""
    migrate.upgrade(url)
    app = create_app(
        {"SECRET_KEY": SECRET_KEY, "DATABASE_URL": url, "INSTANCE_PATH": str(folder),
         "SESSION_COOKIE_SECURE": False, "MAIL_SEND_AFTER_REQUEST": False}
    )  # fmt: skip
    logging.getLogger("portal.request").setLevel(logging.WARNING)  # no line per request here
    with app.app_context(), session_scope() as session:
        load_files(session)
    seed_nations(app)
    seed_people(app, PEOPLE.values())
    flow = Flow(app)
    for _ in range(3):
        flow.draft()
        ref = flow.draft()
        flow.do("researcher", "submit", ref)
        flow.to_review()
        ref = flow.to_review()
        flow.do("cedar_steward1", "review", ref, "red-cedar")
        flow.reviewed()
    shown = flow.approved()
    to_sign = [flow.approved() for _ in range(signing)]
    return app, shown, to_sign


def signed_in_cookie(app, email: str) -> str:
    """The session cookie of ``email`` signed in through the sign-in page."""
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    answer = client.post("/sign-in", data={"email": email, "password": PASSWORD,
                                           "csrf_token": token})  # fmt: skip
    assert answer.status_code == 302, answer.status_code
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    return f"{cookie.key}={cookie.value}"


def api_token(app, email: str) -> str:
    with app.app_context(), session_scope() as session:
        return auth.create_api_token(session, auth.get_user(session, email), "bench")[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn(target: str, url: str, folder: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """``target`` served by gunicorn with the portal's settings and 2 workers, once it
    answers; the process and its base address."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "WEB_CONCURRENCY": "2",
           "PORTAL_BIND": f"127.0.0.1:{port}", "PORTAL_INSTANCE": str(folder),
           "SESSION_COOKIE_SECURE": "false", "PYTHONPATH": str(ROOT)}  # fmt: skip
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = open(folder / f"gunicorn-{port}.log", "w")  # noqa: SIM115 (kept open for the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:portal.gunicorn_conf", *extra, target],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                http.get(base + "/", timeout=10)
                return process, base
            except http.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn for {target} did not answer; see {log.name}")
    except BaseException:
        stop(process)  # interrupted or not answering: leave no server behind
        raise


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def wrk(url: str, cookie: str | None, connections: int, seconds: float) -> dict:
    """req/s and latency percentiles (ms) of ``url`` under wrk."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(WRK_SCRIPT)
    command = ["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{round(seconds)}s",
               "--timeout", "60s", "-s", str(script), url]  # fmt: skip
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    script.unlink()
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["non2xx"] == 0 and figures["errors"] == 0, (url, figures)  # none times out
    figures["rps"] = figures["requests"] / figures["seconds"]
    return figures


def check_page(url: str, cookie: str, expected: str) -> None:
    """The page answers 200 to that cookie, signed in (not the welcome page)."""
    answer = http.get(url, headers={"Cookie": cookie}, allow_redirects=False, timeout=30)
    assert answer.status_code == 200 and expected in answer.text, (url, answer.status_code)


# What the breakdown attributes a request's time to: a function's cumulative time in
# cProfile (file ending, function name). Parts nest (the template includes the layout's
# context); the table says so.
PARTS = [
    (
        "session cookie read and user loaded (flask-login)",
        "flask_login/login_manager.py",
        "_load_user",
    ),
    ("policy version check (before_request)", "portal/policy/web.py", "_fresh_policy"),
    ("two-factor gate (before_request)", "portal/auth/routes.py", "_two_factor_gate"),
    ("CSRF check (before_request)", "flask_wtf/csrf.py", "protect"),
    ("the view (queries, authorization, offers)", "flask/app.py", "dispatch_request"),
    ("  queues (available() per request)", "portal/workflow/queues.py", "queues_for"),
    ("  stalled reviews", "portal/workflow/queues.py", "stalled_for"),
    ("  list of visible requests", "portal/policy/access.py", "visible_requests"),
    ("  request overview (request page)", "portal/transparency/overview.py", "overview"),
    ("  template (render_template)", "flask/templating.py", "render_template"),
    ("    layout context (navigation's authorizations)", "portal/web.py", "_layout_context"),
    ("    CSRF token for the page's forms", "flask_wtf/csrf.py", "generate_csrf"),
    ("every authorize() (within the above)", "portal/policy/service.py", "authorize"),
    ("commit and close (after_request)", "portal/db.py", "_finish_request"),
    ("request log line and metrics (after_request)", "portal/ops.py", "_finish_request"),
    ("session cookie written", "flask/sessions.py", "save_session"),
]


def breakdown(app, cookie: str, path: str, runs: int) -> tuple[float, list, tuple]:
    """cProfile over ``runs`` requests of ``path``: ms per request overall and per part,
    and the SQL statements per request with their ms (timed at the cursor)."""
    client = app.test_client()
    name, value = cookie.split("=", 1)
    client.set_cookie(name, value)
    assert client.get(path).status_code == 200  # warm: the enforcer is built
    statements = {"count": 0, "seconds": 0.0}
    engine = app.extensions["portal.db"]

    def before(conn, *_):
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, *_):
        statements["count"] += 1
        statements["seconds"] += time.perf_counter() - conn.info.pop("bench_started")

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(runs):
        assert client.get(path).status_code == 200
    profile.disable()
    sa.event.remove(engine, "before_cursor_execute", before)
    sa.event.remove(engine, "after_cursor_execute", after)
    stats = pstats.Stats(profile).stats
    cumulative = {(file, function): ct for (file, _, function), (*_, ct, _) in stats.items()}

    def spent(ending: str, function: str) -> float:
        return sum(t for (f, fn), t in cumulative.items() if fn == function and f.endswith(ending))

    total = spent("flask/app.py", "wsgi_app") / runs * 1000
    parts = [(label, spent(ending, function) / runs * 1000) for label, ending, function in PARTS]
    sql = (statements["count"] / runs, statements["seconds"] / runs * 1000)
    return total, parts, sql


def sign_loop(base: str, refs: list[str], tokens: dict[str, str], stop_at: threading.Event,
              done: list) -> None:  # fmt: skip
    """Sign each agreement in turn through the API, its three parties one after another,
    until the refs run out or ``stop_at`` is set; each signature's seconds into ``done``."""
    parties = [("researcher", None), ("cedar_rep", "red-cedar"), ("heron_rep", "blue-heron")]
    for ref in refs:
        for who, nation in parties:
            if stop_at.is_set():
                return
            body = {"password": PASSWORD} | ({"nation": nation} if nation else {})
            started = time.perf_counter()
            answer = http.post(
                f"{base}/api/v1/requests/{ref}/actions/sign",
                json=body,
                headers={"Authorization": f"Bearer {tokens[who]}"},
                timeout=120,
            )
            assert answer.status_code == 200, (ref, who, answer.status_code, answer.text[:300])
            done.append(time.perf_counter() - started)


def p95_while_signing(base: str, cookie: str, refs: list[str], tokens: dict, seconds: float):
    """The page's figures with one connection, idle, then while the loop signs."""
    idle = wrk(base + "/", cookie, 1, seconds)
    stop_at, done = threading.Event(), []
    signer = threading.Thread(target=sign_loop, args=(base, refs, tokens, stop_at, done))
    signer.start()
    time.sleep(1)  # the first signature is under way
    busy = wrk(base + "/", cookie, 1, seconds)
    stop_at.set()
    signer.join()
    return idle, busy, done


# What the section says beyond this run's figures: the seeded data, the changes measured, and
# what is left. Kept here so that a re-run keeps it.
READING = """
Data: the tests' fictional people and two Nations; the steward's home page lists 25
requests (with the default 12 to sign), its review queue and stalled reviews read the 9
under review; the request page shows one awaiting signatures.

Before the changes below, the same script on the code before them (same machine, minutes
apart, load average 12–17): `/` 3 req/s against 114–133 for the bare route (2–4%), the
request page 4 req/s (3–4%); one connection p50 339 ms (steward's `/`) against 11.9 ms;
115 statements for the home page, 61 for the request page; p95 while signing 2.4× idle
(480 ms idle, 1,164 ms while signing).

What changed (ARCHITECTURE.md, "What a page reads"): each request's tracks, current
reviews and Nations, each Nation's stewards and representatives, an agreement and its
signatures, and a person's roles are read once per transaction (`TransactionCache`), the
home page's requests all at once (`preload`): 115 statements to 17, 61 to 35. The home
and request pages read in a deferred transaction on SQLite (every GET, `portal/db.py`):
they no longer wait for the write lock behind a signature, and two workers serve them
side by side.

Reading: the goal of 33% is not met. What is left is Python, not SQL (3–4% of the time at
the cursor on SQLite): `available()` asked per request and step (the queues), a tally per
track (stalled reviews), the ORM building each object, and the template. The next steps
would be the queues and stalled reviews computed from the preloaded rows in one pass
(not through `available()` per request and step), one visible-requests query for the
home page instead of three (queues, stalled, list), and Core rows instead of ORM objects
for what the page only shows. While signing, pages no longer wait for a lock; what
remains is CPU: a signature (about 0.4–0.7 s of CPU here) takes one of the two cores
the page shares with it and with every other process on this machine, so the 2× goal is
measured within reach only on a machine that is not otherwise loaded.
"""


def load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def ms(value: float) -> str:
    return f"{value:.2f} ms"


def latency_row(label: str, figures: dict) -> str:
    return (f"| {label} | {figures['rps']:.0f} | {ms(figures['p50'])} | {ms(figures['p95'])} "
            f"| {ms(figures['p99'])} |")  # fmt: skip


def report(args, rounds, singles, pages, signing, loads) -> str:
    backend = "PostgreSQL" if args.database_url else "SQLite"
    command = "python tests/benchmarks/bench_throughput.py"
    if args.database_url:
        command += " --database-url postgresql+psycopg://…"
    ratios = [
        page["rps"] / turn["bare"]["rps"] for turn in rounds for page in turn["pages"].values()
    ]
    lines = [
        SECTION, "",
        f"`{command}` — {backend}, {time.strftime('%Y-%m-%d')}, CPython "
        f"{platform.python_version()}; gunicorn with portal/gunicorn_conf.py, 2 sync workers "
        f"each; wrk, {args.connections} connections, {args.seconds:g} s a turn; load average "
        f"(1 min) {loads[0]} before, {loads[1]} after, on 2 shared cores.", "",
        "**Throughput**, the portal's pages and the bare Flask + SQLAlchemy route "
        "(tests/benchmarks/bare_flask.py: one query) in turns; ratio = page ÷ bare of the "
        "same turn:", "",
        "| turn | page | page req/s | bare req/s | ratio |",
        "|---:|---|---:|---:|---:|",
    ]  # fmt: skip
    for number, turn in enumerate(rounds, 1):
        for label, figures in turn["pages"].items():
            bare = turn["bare"]["rps"]
            lines.append(f"| {number} | {label} | {figures['rps']:.0f} | {bare:.0f} | "
                         f"{figures['rps'] / bare:.0%} |")  # fmt: skip
    lines += [
        "", f"Goal: ≥ 33%. Measured: {min(ratios):.0%} to {max(ratios):.0%}.", "",
        "**One connection** (wrk, latency):", "",
        "| target | req/s | p50 | p95 | p99 |", "|---|---:|---:|---:|---:|",
        *(latency_row(label, figures) for label, figures in singles.items()),
    ]  # fmt: skip
    for label, (total, parts, sql) in pages.items():
        lines += [
            "", f"**What {label} costs** (cProfile over 200 requests in one process, test "
            f"client; the profiler inflates Python time, so read the shares): {ms(total)} a "
            f"request under the profiler; SQL {sql[0]:.0f} statements, {ms(sql[1])} at the "
            f"cursor ({sql[1] / total:.0%}). Indented parts are within the part above.", "",
            "| part | ms | share |", "|---|---:|---:|",
        ]  # fmt: skip
        for part, spent in parts:
            if spent:
                name = part.strip().replace("  ", " ")
                indent = "↳ " * ((len(part) - len(part.lstrip())) // 2)
                lines.append(f"| {indent}{name} | {spent:.2f} | {spent / total:.0%} |")
    idle, busy, done = signing
    median = sorted(done)[len(done) // 2] if done else 0
    lines += [
        "", f"**`/` (a steward) with one connection while agreements are signed**: a loop "
        f"signs through the API, party after party ({len(done)} signatures while measured, "
        f"median {median:.2f} s each, in the same gunicorn):", "",
        "| | req/s | p50 | p95 | p99 |", "|---|---:|---:|---:|---:|",
        latency_row("idle", idle), latency_row("while signing", busy), "",
        f"Goal: p95 while signing ≤ 2× idle. Measured: {busy['p95'] / idle['p95']:.1f}×.",
        READING.rstrip("\n"),
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--seconds", type=float, default=10, help="length of each wrk turn")
    parser.add_argument("--rounds", type=int, default=3, help="turns of each target")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--signing", type=int, default=12, help="agreements to sign")
    parser.add_argument("--quick", action="store_true", help="short turns; BENCHMARKS.md untouched")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.signing = 3, 1, 3
    folder = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    url = args.database_url or f"sqlite:///{folder / 'portal.db'}"
    loads = [load_average()]
    app, shown, to_sign = seed(url, folder, args.signing)
    steward = signed_in_cookie(app, PEOPLE["cedar_steward1"][0])
    coordinator = signed_in_cookie(app, PEOPLE["coordinator"][0])
    tokens = {
        who: api_token(app, PEOPLE[who][0]) for who in ("researcher", "cedar_rep", "heron_rep")
    }
    targets = {
        "`/` (a steward)": ("/", steward, "Waiting for you"),
        "`/` (the coordinator)": ("/", coordinator, "Waiting for you"),
        "`/requests/<ref>` (a steward)": (f"/requests/{shown}", steward, shown),
        # The floor: a signed-in page that reads almost nothing but the person.
        "`/account` (a steward)": ("/account", steward, "Your account"),
    }
    servers = []
    try:
        portal, portal_base = gunicorn("portal:create_app()", url, folder)
        servers.append(portal)
        bare, bare_base = gunicorn(
            "bare_flask:app", url, folder, "--chdir", str(ROOT / "tests/benchmarks")
        )
        servers.append(bare)
        for path, cookie, expected in targets.values():
            check_page(portal_base + path, cookie, expected)
        rounds = []
        for _ in range(args.rounds):
            turn = {"bare": wrk(bare_base + "/", None, args.connections, args.seconds), "pages": {}}
            for label, (path, cookie, _) in targets.items():
                turn["pages"][label] = wrk(
                    portal_base + path, cookie, args.connections, args.seconds
                )
                print(
                    label,
                    f"{turn['pages'][label]['rps']:.0f} req/s",
                    f"bare {turn['bare']['rps']:.0f}",
                )
            rounds.append(turn)
        singles = {"bare route": wrk(bare_base + "/", None, 1, args.seconds)}
        for label, (path, cookie, _) in targets.items():
            singles[label] = wrk(portal_base + path, cookie, 1, args.seconds)
        signing = p95_while_signing(portal_base, steward, to_sign, tokens, args.seconds)
        print("signing:", signing[0]["p95"], signing[1]["p95"], len(signing[2]))
    finally:
        for server in servers:
            stop(server)
    pages = {
        "`/` (a steward)": breakdown(app, steward, "/", 200),
        "`/requests/<ref>` (a steward)": breakdown(app, steward, f"/requests/{shown}", 200),
    }
    loads.append(load_average())
    section = report(args, rounds, singles, pages, signing, loads)
    print(section)
    if not args.quick:
        write_section(SECTION, section)


if __name__ == "__main__":
    main()
