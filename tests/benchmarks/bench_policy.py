"""Benchmark of policy enforcement; writes the "Policy enforcement" section of BENCHMARKS.md.

    python tests/benchmarks/bench_policy.py            # full run (a few minutes)
    python tests/benchmarks/bench_policy.py --quick    # smaller sizes, to try it out

Not collected by pytest (the file name does not start with test_). Measures:

1. enforce() p50 at 100, 1k, 10k and 100k policy lines (a quarter p lines, some for
   every Nation, three quarters g lines for many people), pycasbin's plain Enforcer
   against the portal's NationEnforcer (a FastEnforcer keyed on action and domain).
   Both answer the same questions; their answers are compared, not only timed.
2. The first build of the domain role manager with its matching function on (the
   default) and off (as the portal runs it).
3. Authorization's share of a signed-in page's time, on a real app and database.
"""

import argparse
import gc
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import casbin

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.policy.enforcer import (  # noqa: E402
    LinesAdapter,
    LoadedPolicy,
    without_role_matching,
)
from portal.policy.files import read_directory  # noqa: E402

from report import write_section  # noqa: E402

MODEL = ROOT / "policies" / "model.conf"
ACTIONS = [
    "view", "create", "edit", "submit", "withdraw", "screen", "review", "approve",
    "refuse", "sign", "revoke", "manage_profile", "view_record", "manage_registry",
    "manage_users",
]  # fmt: skip
NATION_ROLES = ["steward", "representative"]
PORTAL_ROLES = ["researcher", "coordinator", "admin"]


def synthetic_lines(total: int, rng: random.Random) -> tuple[list, list]:
    """The real policy plus synthetic lines up to ``total``; and the people (id, domain)."""
    real, _ = read_directory(ROOT / "policies")
    lines = [(line.ptype, list(line.values)) for line in real]
    nations = [f"nation-{n}" for n in range(max(2, total // 100))]
    p_lines = max(0, total // 4 - len(lines))
    seen = set()
    while len(seen) < p_lines:
        seen.add(
            (rng.choice(NATION_ROLES + PORTAL_ROLES), rng.choice(nations), rng.choice(ACTIONS))
        )
    lines += [("p", list(line)) for line in sorted(seen)]
    people = []
    for user in range(total - len(lines)):
        if user % 3:
            domain, role = rng.choice(nations), rng.choice(NATION_ROLES)
        else:
            domain, role = "*", rng.choice(PORTAL_ROLES)
        lines.append(("g", [f"user:{user}", role, domain]))
        people.append((user, domain))
    return lines, people if people else [(0, "*")], nations


def queries(people, nations, count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    asked = []
    for _ in range(count):
        user, domain = rng.choice(people)
        where = rng.choice([domain, rng.choice(nations), "*"])
        asked.append((f"user:{user}", where, rng.choice(ACTIONS)))
    return asked


def p50_ms(enforce: Callable, asked: list) -> tuple[float, list[bool]]:
    answers, times = [], []
    for request in asked:
        start = time.perf_counter()
        answers.append(enforce(*request))
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, answers


def enforcement(sizes: list[int]) -> list[tuple]:
    rows = []
    for size in sizes:
        rng = random.Random(size)
        lines, people, nations = synthetic_lines(size, rng)
        start = time.perf_counter()
        fast = LoadedPolicy.build(MODEL, lines, 0).enforcer
        build_ms = (time.perf_counter() - start) * 1000
        plain = without_role_matching(casbin.Enforcer(str(MODEL), LinesAdapter(lines)))
        asked = queries(people, nations, 2000, rng)
        plain_asked = asked[: max(30, min(2000, 2_000_000 // size))]
        for domain in {d for _, d, _ in plain_asked}:  # build each domain's roles before timing
            plain.get_role_manager().has_link("*", "*", domain)
        # The machine is shared: the best of three rounds' medians.
        fast_p50, fast_answers = min(p50_ms(fast.enforce, asked) for _ in range(3))
        plain_p50, plain_answers = min(
            p50_ms(plain.enforce, plain_asked) for _ in range(3 if size < 100_000 else 1)
        )
        assert fast_answers[: len(plain_answers)] == plain_answers, "the enforcers disagree"
        p_count = sum(1 for ptype, _ in lines if ptype == "p")
        allowed = sum(fast_answers) / len(fast_answers)
        rows.append((size, p_count, len(lines) - p_count, plain_p50, fast_p50, build_ms, allowed))
        print(f"{size:>7} lines: plain {plain_p50:8.3f} ms  fast {fast_p50:.3f} ms", flush=True)
    return rows


def role_manager_build(sizes: list[int]) -> list[tuple]:
    """Time to build one domain's role graph for ``n`` people, matching on and off."""
    rows = []
    for people in sizes:
        lines = [("p", ["steward", "*", "review"])] + [
            ("g", [f"user:{i}", "steward", "nation-0"]) for i in range(people)
        ]
        timings = []
        for matching_off in (False, True):
            best = float("inf")
            for _ in range(3 if people <= 1_000 else 1):
                enforcer = casbin.Enforcer(str(MODEL), LinesAdapter(lines))
                if matching_off:
                    without_role_matching(enforcer)
                gc.collect()
                start = time.perf_counter()
                enforcer.enforce("user:1", "nation-0", "review")  # the first look-up builds it
                best = min(best, (time.perf_counter() - start) * 1000)
            timings.append(best)
        rows.append((people, *timings))
        print(f"{people:>7} people in a domain: on {timings[0]:.1f} ms, off {timings[1]:.1f} ms")
    return rows


def page_share(memberships: int, requests: int) -> tuple:
    """p50 of a signed-in page and authorization's share of its time."""
    import sqlalchemy as sa

    from portal import create_app, migrate
    from portal.auth import service as auth
    from portal.db import session_scope
    from portal.policy import web as policy_web
    from portal.policy.sync import load_files
    from portal.registry import service as registry

    folder = Path(tempfile.mkdtemp(prefix="bench-policy-"))
    url = f"sqlite:///{folder / 'portal.db'}"
    migrate.upgrade(url)
    app = create_app(
        {"SECRET_KEY": "bench", "DATABASE_URL": url, "INSTANCE_PATH": str(folder),
         "SESSION_COOKIE_SECURE": False}
    )  # fmt: skip
    with app.app_context(), session_scope() as session:
        load_files(session)
        name = "Kestrel River First Nation (fictional)"
        nation = registry.create_nation(session, "kestrel-river", name, "OCAP")
        rep = auth.create_user(session, "rep@example.org", "Rep", "benchmark-password")
        auth.grant_role(session, rep, "representative", nation)
        others = [registry.create_nation(session, f"nation-{n}", f"Nation {n} (fictional)",
                                         "CARE") for n in range(20)]  # fmt: skip
        session.flush()
        hash_ = rep.password_hash
        connection = session.connection()
        connection.execute(
            sa.insert(auth.User),
            [{"email": f"u{i}@example.org", "name": f"U{i}", "password_hash": hash_,
              "institution": "", "active": True} for i in range(memberships)],
        )  # fmt: skip
        ids = connection.execute(
            sa.select(auth.User.id).where(auth.User.email != "rep@example.org")
        ).all()
        connection.execute(
            sa.insert(auth.RoleMembership),
            [{"user_id": uid, "role": "steward", "nation_id": others[uid % 20].id}
             for (uid,) in ids],
        )  # fmt: skip
        from portal.policy.store import bump_version

        bump_version(session)

    spent = {"auth": 0.0, "depth": 0}

    def timed(function):
        def wrapper(*args, **kwargs):
            spent["depth"] += 1
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent["depth"] -= 1
                if spent["depth"] == 0:
                    spent["auth"] += time.perf_counter() - start

        return wrapper

    # Everything the policy does for these pages: the version check before each
    # request, every authorize() (the page's own, available()'s, the queues', the
    # navigation's: wherever a module imported it) and the reach of each role.
    from portal.policy import access
    from portal.policy import service as policy_service

    portal_modules = [m for name, m in sys.modules.items() if name.startswith("portal")]
    for owner, name in (
        (policy_service, "authorize"),
        (access, "may_view"),
        (access, "visible_clause"),
        (access, "holders_reaching"),
    ):
        original, wrapped = getattr(owner, name), timed(getattr(owner, name))
        for module in portal_modules:
            if getattr(module, name, None) is original:
                setattr(module, name, wrapped)
    check_version = timed(policy_web.current_policy)

    def before_request_check(session):
        # The transaction starts here because this is the request's first query; the
        # page would pay for that start with whichever query came first, so it is
        # not counted as authorization.
        session.connection()
        return check_version(session)

    policy_web.current_policy = before_request_check

    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    client.post("/sign-in", data={"email": "rep@example.org", "password": "benchmark-password",
                                  "csrf_token": token})  # fmt: skip
    results = []
    for path in ("/nations/kestrel-river/profile", "/"):
        assert client.get(path).status_code == 200  # warm: the enforcer is built here
        totals, shares = [], []
        for _ in range(requests):
            spent["auth"] = 0.0
            start = time.perf_counter()
            assert client.get(path).status_code == 200
            total = time.perf_counter() - start
            totals.append(total)
            shares.append(spent["auth"] / total)
        results.append((path, statistics.median(totals) * 1000, statistics.median(shares)))
        print(f"{path}: p50 {results[-1][1]:.2f} ms, authorization {results[-1][2]:.1%}")
    app.extensions["portal.db"].dispose()
    return memberships, results


def report(enforce_rows, build_rows, page_rows) -> str:
    base = enforce_rows[0]
    lines = [
        "## Policy enforcement",
        "",
        f"Measured by `python tests/benchmarks/bench_policy.py` in one run on "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, pycasbin {casbin_version()}.",
        "",
        "**enforce() p50** over the same questions (a person, a domain, an action; "
        "both enforcers gave identical answers). p lines: the real policy plus lines "
        "naming one Nation each; g lines: people holding roles in a Nation or portal-wide.",
        "",
        "| policy lines | p lines | g lines | plain Enforcer | portal (FastEnforcer) | "
        "ratio to 100 lines | build + warm-up |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, p_count, g_count, plain, fast, build, _allowed in enforce_rows:
        lines.append(
            f"| {size:,} | {p_count:,} | {g_count:,} | {plain:.3f} ms | {fast:.3f} ms | "
            f"{fast / base[4]:.2f}x | {build:,.0f} ms |"
        )
    top = enforce_rows[-1]
    lines += [
        "",
        f"Goal: p50 at {top[0]:,} lines ≤ 1.5x p50 at {base[0]:,} lines. "
        f"Measured: {top[4] / base[4]:.2f}x "
        f"({'met' if top[4] / base[4] <= 1.5 else 'NOT met'}). "
        f"The plain Enforcer grows {top[3] / base[3]:.0f}x over the same range.",
        "",
        "**First build of one domain's role graph** (the first question asked in a Nation "
        "after the enforcer is rebuilt), with the domain role manager's matching function "
        "on (pycasbin's default) and off (as the portal runs it):",
        "",
        "| people in the domain | matching on | matching off |",
        "|---:|---:|---:|",
    ]
    lines += [f"| {n:,} | {on:,.1f} ms | {off:,.1f} ms |" for n, on, off in build_rows]
    lines += [
        "",
        "**Authorization's share of a signed-in page** (test client, SQLite; the version "
        "check before the request, the page's own check and the navigation's; not the "
        "start of the request's transaction, which the page pays whichever query comes "
        "first), p50 of each request's share:",
        "",
        "| role memberships in the database | page | page p50 | authorization share |",
        "|---:|---|---:|---:|",
    ]
    for memberships, results in page_rows:
        for path, p50, share in results:
            lines.append(f"| {memberships:,} | `{path}` | {p50:.2f} ms | {share:.1%} |")
    worst = max(share for _, results in page_rows for _, _, share in results)
    lines += [
        "",
        f"Goal: authorization ≤ 15% of a signed-in page's time. Measured: at most "
        f"{worst:.1%} ({'met' if worst <= 0.15 else 'NOT met'}).",
        "",
    ]
    return "\n".join(lines)


def casbin_version() -> str:
    from importlib.metadata import version

    return version("pycasbin")


HEADER = """# Benchmarks

Speed targets are measured by the scripts in `tests/benchmarks/` (named
`bench_*.py`, so the normal `pytest` run does not collect them). Run one with
`python tests/benchmarks/bench_<name>.py` from the repository root, in the
project's virtual environment; it rewrites its own section below. Figures are
ratios measured in one run on one machine: compare them within a section, not
across machines.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes; BENCHMARKS.md untouched"
    )
    quick = parser.parse_args().quick
    sizes = [100, 1_000, 10_000] if quick else [100, 1_000, 10_000, 100_000]
    enforce_rows = enforcement(sizes)
    build_rows = role_manager_build([100, 1_000] if quick else [100, 1_000, 3_000])
    page_rows = [
        page_share(n, 50 if quick else 200) for n in ([100] if quick else [1_000, 100_000])
    ]
    section = report(enforce_rows, build_rows, page_rows)
    print()
    print(section)
    if not quick:
        write_section("## Policy enforcement", section, HEADER)


if __name__ == "__main__":
    main()
