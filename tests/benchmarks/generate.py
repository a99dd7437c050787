"""Benchmark generator: a portal database at scale, all fictional, written in bulk.

    python tests/benchmarks/generate.py --requests 100000 [--database-url URL]

Fills a database (a SQLite file, or a PostgreSQL URL) with --requests requests across
NATIONS Nations in realistic states (lifecycle.py: drafts, screening, under review with
reviews, decided, active with agreement rows; no PDFs), PEOPLE people with roles, and about
20 audit events per request (2,000,000 at 100,000), on the real hash chain. Plain INSERTs
in batches on SQLite, COPY on PostgreSQL. A database this filled already (as many requests)
is reused as it is; any other non-empty one is refused. Run on demand, never in CI.
"""

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from psycopg.types.json import Json
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).parent))

from lifecycle import Rows, World, make_request

from portal import migrate
from portal.audit.chain import event_hash
from portal.audit.models import GENESIS_HASH, AuditChainHead
from portal.auth.passwords import hash_password
from portal.db import json_text, make_engine
from portal.models import metadata
from portal.paths import resource_dir
from portal.policy.files import read_directory
from portal.policy.store import replace_file_rules
from portal.policy.versions import first_rules_version

NATIONS, PEOPLE, COORDINATORS = 50, 10_000, 20
STEWARDS, REPRESENTATIVES = 5, 2  # per Nation
PASSWORD = "bench-password-fictional"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # the tests' well-known example secret, fictional
BATCH = 2_000  # requests per batch (about 40,000 events)
YEARS = 3  # requests were created over the last YEARS years
NOW = datetime(2026, 12, 1, tzinfo=UTC)
PLACES = (
    "Cedar",
    "Heron",
    "Birch",
    "Otter",
    "Sturgeon",
    "Raven",
    "Willow",
    "Lynx",
    "Marten",
    "Tamarack",
)
FEATURES = ("River", "Lake", "Hills", "Point", "Bay")


def fill(url: str, requests: int) -> bool:
    """Migrate and fill ``url`` with ``requests`` requests; False if it was filled already."""
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            present = connection.execute(sa.text("SELECT count(*) FROM access_request")).scalar()
        if present == requests:
            return False
        if present:
            raise SystemExit(f"{url} holds {present:,} requests, not {requests:,}: use another")
        _policies(engine)
        world = _registry_and_people(engine)
        _requests_and_events(engine, world, requests)
        _after_bulk(engine)
        return True
    finally:
        engine.dispose()


def _policies(engine) -> None:
    """policies/ in the database, as `portal policy load` puts them at installation."""
    lines, problems = read_directory(resource_dir("policies"))
    assert not problems, problems
    with Session(engine) as session:
        replace_file_rules(session, [(ln.source, ln.ptype, list(ln.values)) for ln in lines])
        session.add(first_rules_version([(ln.ptype, *ln.values) for ln in lines]))
        if session.get(AuditChainHead, 1) is None:
            session.add(AuditChainHead(id=1, last_event_id=0, last_hash=GENESIS_HASH))
        session.commit()


def nation_name(number: int) -> tuple[str, str]:
    place, feature = PLACES[number % len(PLACES)], FEATURES[number // len(PLACES) % 5]
    return (
        f"{place.lower()}-{feature.lower()}-{number}",
        f"{place} {feature} Nation {number} (fictional)",
    )


def _registry_and_people(engine) -> World:
    created = NOW - timedelta(days=365 * YEARS + 30)
    rows = Rows()
    for n in range(1, NATIONS + 1):
        slug, name = nation_name(n)
        rows.add(
            "nation",
            id=n,
            slug=slug,
            name=name,
            framework="OCAP",
            review_quorum=1,
            min_approvals=1,
            residency=[],
            max_term_days=None,
            output_review_required=True,
            small_cell_threshold=5,
            created_at=created,
            updated_at=created,
        )
    datasets = [(n, f"{nation_name(n)[0]}-health", (n,)) for n in range(1, NATIONS + 1)]
    datasets += [(NATIONS + k, f"shared-survey-{k}", (k, k + 1)) for k in range(1, 11)]
    for dataset_id, slug, nation_ids in datasets:
        rows.add(
            "dataset",
            id=dataset_id,
            slug=slug,
            title=slug.replace("-", " ").title(),
            custodian="A fictional ministry",
            description="",
            created_at=created,
        )
        for nation_id in nation_ids:
            rows.add("dataset_nation", dataset_id=dataset_id, nation_id=nation_id)
    password = hash_password(PASSWORD)
    emails: dict[int, str] = {}
    stewards: dict[int, list[int]] = {}
    representatives: dict[int, list[int]] = {}
    roles: list[tuple[int, str, int | None]] = [(1, "admin", None)]
    person = 1
    for _ in range(COORDINATORS):
        person += 1
        roles.append((person, "coordinator", None))
    for n in range(1, NATIONS + 1):
        for role, kept, count in (
            ("steward", stewards, STEWARDS),
            ("representative", representatives, REPRESENTATIVES),
        ):
            for _ in range(count):
                person += 1
                kept.setdefault(n, []).append(person)
                roles.append((person, role, n))
    researchers = list(range(person + 1, PEOPLE + 1))
    roles += [(p, "researcher", None) for p in researchers]
    two_factor = {p for p, role, _ in roles if role in ("admin", "representative")}
    for p in range(1, PEOPLE + 1):
        emails[p] = f"person{p}@example.org"
        rows.add(
            "user_account",
            id=p,
            email=emails[p],
            name=f"Person {p} (fictional)",
            institution="A fictional university",
            password_hash=password,
            active=True,
            created_at=created,
            session_version=0,
            totp_secret=TOTP_SECRET if p in two_factor else None,
            totp_enabled_at=created if p in two_factor else None,
            totp_last_step=None,
        )
    for number, (p, role, nation_id) in enumerate(roles, start=1):
        rows.add(
            "role_membership",
            id=number,
            user_id=p,
            role=role,
            nation_id=nation_id,
            granted_at=created,
        )
    with engine.begin() as connection:
        for table, table_rows in rows.tables.items():
            insert(connection, table, table_rows)
    # Nation 1's dataset is in about half the requests; the others share the rest.
    weights = [9 * NATIONS if n == 1 else 10 for n in range(1, NATIONS + 1)] + [5] * 10
    return World(
        researchers=researchers[1:],
        busy_researcher=researchers[0],
        coordinators=[p for p, role, _ in roles if role == "coordinator"],
        stewards=stewards,
        representatives=representatives,
        datasets=datasets,
        dataset_weights=weights,
        emails=emails,
    )


def _requests_and_events(engine, world: World, requests: int) -> None:
    rng = random.Random(7)
    with engine.connect() as connection:
        head = connection.execute(sa.select(AuditChainHead.__table__)).one()
    last_id, last_hash = head.last_event_id, head.last_hash
    start, span = NOW - timedelta(days=365 * YEARS), timedelta(days=365 * YEARS - 1)
    started = time.perf_counter()
    for first in range(1, requests + 1, BATCH):
        rows = Rows()
        for number in range(first, min(first + BATCH, requests + 1)):
            created = start + span * (number / requests) + timedelta(seconds=rng.uniform(0, 600))
            make_request(rows, world, rng, number, created, NOW)
        rows.events.sort(key=lambda event: event[0]["occurred_at"])
        events, links = [], []
        for row, nation_ids in rows.events:
            last_id += 1
            row = {"id": last_id, **row, "prev_hash": last_hash}
            row["hash"] = last_hash = event_hash(
                event_id=last_id,
                nation_ids=sorted(nation_ids),
                **{k: v for k, v in row.items() if k != "id"},
            )
            events.append(row)
            links += [{"event_id": last_id, "nation_id": n} for n in sorted(set(nation_ids))]
        with engine.begin() as connection:
            for table in (
                "access_request",
                "request_dataset",
                "request_revision",
                "nation_track",
                "review",
                "decision",
                "agreement",
            ):
                if rows.tables.get(table):
                    insert(connection, table, rows.tables[table])
            insert(connection, "audit_event", events)
            insert(connection, "audit_event_nation", links)
            connection.execute(
                sa.update(AuditChainHead.__table__).values(
                    last_event_id=last_id, last_hash=last_hash
                )
            )
        done = min(first + BATCH - 1, requests)
        print(
            f"\r{done:,} requests, {last_id:,} events, {time.perf_counter() - started:.0f} s",
            end="",
            flush=True,
        )
    print()


def insert(connection, name: str, rows: list[dict]) -> None:
    """Plain INSERTs on SQLite; COPY on PostgreSQL. Audit details go in as the canonical
    JSON the portal stores (the chain hashes that text)."""
    table = metadata.tables[name]
    if connection.dialect.name != "postgresql":
        connection.execute(sa.insert(table), rows)
        return
    # COPY does not apply the models' Python-side defaults (as INSERT through SQLAlchemy
    # does): the columns a row leaves out get theirs here (e.g. agreement.edition).
    defaults = {
        column.name: column.default.arg
        for column in table.columns
        if column.name not in rows[0] and column.default is not None and column.default.is_scalar
    }
    names = [*rows[0], *defaults]
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            values = {**row, **defaults}
            copy.write_row([_copy_value(name, key, value) for key, value in values.items()])


def _copy_value(table: str, column: str, value):
    if table == "audit_event" and column == "details":
        return json_text(value)
    if isinstance(value, dict | list):
        return Json(value)
    if isinstance(value, str):
        return str(value)  # enums by their value, as the portal stores them
    return value


def _after_bulk(engine) -> None:
    """Sequences past the ids written (PostgreSQL), then planner statistics."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            for table in metadata.sorted_tables:
                # Integer keys only (a text id, as custodian_delivery's, has no sequence).
                column = table.c.get("id")
                if column is not None and isinstance(column.type, sa.Integer):
                    name = table.name  # our own tables' names, not input
                    sequence = f"pg_get_serial_sequence('{name}', 'id')"
                    connection.exec_driver_sql(
                        f"SELECT setval({sequence}, (SELECT coalesce(max(id), 0) + 1 "  # noqa: S608
                        f"FROM {name}), false) WHERE {sequence} IS NOT NULL"
                    )
            connection.exec_driver_sql("VACUUM ANALYZE")
        else:
            connection.exec_driver_sql("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: sqlite:///bench-<N>.db here")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path.cwd() / f'bench-{args.requests}.db'}"
    started = time.perf_counter()
    made = fill(url, args.requests)
    took = time.perf_counter() - started
    print(f"{'filled' if made else 'reused'} {url} ({args.requests:,} requests) in {took:.0f} s")


if __name__ == "__main__":
    main()
