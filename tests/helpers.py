"""Helpers the tests share (importable from any test module: `from helpers import ...`)."""

import os
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

PASSWORD = "correct horse battery"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")


def admin_url(url: str) -> str:
    """The same PostgreSQL server, its maintenance database."""
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


@contextmanager
def scratch_postgres_database() -> Iterator[str]:
    """A PostgreSQL database of its own for one test, dropped afterwards."""
    name = f"portal_scratch_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def seed_nations(app) -> tuple[str, str]:
    """Two fictional Nations and three datasets: one each, and one shared."""
    from portal.db import session_scope
    from portal.registry import service as registry

    with app.app_context(), session_scope() as session:
        registry.create_nation(
            session,
            "red-cedar",
            "Red Cedar Nation (fictional)",
            "OCAP",
            review_quorum=2,
            residency=["CA"],
            max_term_days=730,
        )
        registry.create_nation(session, "blue-heron", "Blue Heron Métis (fictional)", "OCAS")
        registry.create_dataset(
            session, "cedar-health", "Cedar health", "Health (fictional)", ["red-cedar"]
        )
        registry.create_dataset(
            session, "heron-schools", "Heron schools", "Schools (fictional)", ["blue-heron"]
        )
        registry.create_dataset(
            session,
            "shared-welfare",
            "Shared welfare",
            "Welfare (fictional)",
            ["red-cedar", "blue-heron"],
        )
    return ("red-cedar", "blue-heron")


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client, email: str, password: str = PASSWORD):
    page = client.get("/sign-in")
    token = csrf_token(page.get_data(as_text=True))
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})


def race(*calls, timeout: float = 120):
    """Run the calls at the same moment, each in its own thread (and so its own
    transaction); return what each returned or the ServiceError it raised."""
    from portal.errors import ServiceError

    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except ServiceError as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results


def nation_ids_of(session, event) -> list[int]:
    """The ids of the Nations an audit event concerns, ascending."""
    from sqlmodel import select

    from portal.audit.models import AuditEventNation

    query = select(AuditEventNation.nation_id).where(AuditEventNation.event_id == event.id)
    return list(session.exec(query.order_by(AuditEventNation.nation_id)))
