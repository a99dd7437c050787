"""Helpers the tests share (importable from any test module: `from helpers import ...`)."""

import os
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

PASSWORD = "correct horse battery"
# The TOTP secret of the tests' people whose roles require two-factor sign-in.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def redis_test_url(number: int) -> str:
    """Redis database ``number`` on the SQLite pass, ``number + 1`` on the PostgreSQL one:
    CI runs the two side by side on one Redis, and one pass's flush, throttle counts or
    worker must never touch the other's (an RQ test once found its jobs taken)."""
    return f"redis://127.0.0.1:6379/{number + (1 if TEST_DATABASE_URL else 0)}"


ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")


def sqlite_pass_only(what: str) -> pytest.MarkDecorator:
    """Mark tests of ``what`` whose outcome no database changes (a template rendered,
    a font embedded, a catalogue, pure functions): CI runs them once, on its SQLite
    pass, which keeps its PostgreSQL pass (the longer one) short. Whatever the
    workflow writes has PostgreSQL tests of its own."""
    return pytest.mark.skipif(ON_POSTGRES, reason=f"{what}: run on the SQLite pass")


def admin_url(url: str) -> str:
    """The same PostgreSQL server, its maintenance database."""
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


@contextmanager
def emptied_redis(url: str) -> Iterator:
    """The real Redis at ``url`` (a database number of the caller's own), emptied before
    and after; the test skips when no Redis answers."""
    import pytest
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisDown

    connection = Redis.from_url(url)
    try:
        connection.flushdb()
    except RedisDown:
        pytest.skip(f"no Redis at {url}")
    try:
        yield connection
    finally:
        connection.flushdb()
        connection.close()


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


def seed_people(app, people, names: dict[str, str] | None = None) -> dict[str, int]:
    """Logins for ``people``, (e-mail, roles) pairs as in flows.PEOPLE, named from
    ``names`` or their address; those whose roles require two-factor sign-in have it set
    up with TOTP_SECRET. Their ids, by e-mail address."""
    from portal.auth import service as auth
    from portal.auth import twofactor
    from portal.db import session_scope
    from portal.registry import service as registry

    ids = {}
    with app.app_context(), session_scope() as session:
        for email, roles in people:
            name = (names or {}).get(email, email.split("@")[0])
            user = auth.create_user(session, email, name, PASSWORD)
            for role in roles:
                role, slug = role if isinstance(role, tuple) else (role, None)
                nation = registry.get_nation(session, slug) if slug else None
                auth.grant_role(session, user, role, nation)
            if twofactor.two_factor_required(session, user):
                twofactor.enable_with_secret(session, user, TOTP_SECRET)
            session.flush()
            ids[email] = user.id
    return ids


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def totp_code(app, email: str) -> str:
    """The code a person's authenticator app shows now, read from their stored secret.
    A code is good once, so a second sign-in within the same 30 seconds takes the next
    step's code (accepted for clock drift), and a third waits for the clock."""
    import time

    import pyotp
    from sqlmodel import select

    from portal.auth.models import User
    from portal.auth.twofactor import DRIFT_STEPS, current_step
    from portal.db import session_scope

    with app.app_context(), session_scope() as session:
        user = session.exec(select(User).where(User.email == email.strip().lower())).one()
        secret, last = user.totp_secret, user.totp_last_step
    step = current_step() if last is None else max(current_step(), last + 1)
    while step > current_step() + DRIFT_STEPS:
        time.sleep(0.5)
    return pyotp.TOTP(secret).generate_otp(step)


def sign_in(client, email: str, password: str = PASSWORD):
    """Sign in through the pages; for someone with two-factor sign-in, give the code of
    their authenticator app too. The last answer: a redirect when signed in."""
    page = client.get("/sign-in")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(
        "/sign-in", data={"email": email, "password": password, "csrf_token": token}
    )
    if response.status_code == 302 and response.headers["Location"] == "/sign-in/code":
        page = client.get("/sign-in/code")
        token = csrf_token(page.get_data(as_text=True))
        code = totp_code(client.application, email)
        response = client.post("/sign-in/code", data={"code": code, "csrf_token": token})
    return response


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


def in_thread(work) -> tuple[threading.Thread, dict]:
    """``work()`` started in a thread; the dict gets its "value", or the "error" it raised."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = work()
        except Exception as error:  # handed back to the test, which asserts on it
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def nation_ids_of(session, event) -> list[int]:
    """The ids of the Nations an audit event concerns, ascending."""
    from sqlmodel import select

    from portal.audit.models import AuditEventNation

    query = select(AuditEventNation.nation_id).where(AuditEventNation.event_id == event.id)
    return list(session.exec(query.order_by(AuditEventNation.nation_id)))


@contextmanager
def module_database(template: str, folder) -> Iterator[str]:
    """A migrated database with the policies loaded, for one test module alone (a copy
    of the migrated SQLite template, or a scratch PostgreSQL database)."""
    import shutil

    from seeds import load_policies

    from portal import migrate

    if not ON_POSTGRES:
        shutil.copyfile(template, folder / "portal.db")
        yield f"sqlite:///{folder / 'portal.db'}"
        return
    with scratch_postgres_database() as url:
        migrate.upgrade(url)
        load_policies(url)
        yield url


@contextmanager
def module_app(template: str, folder, **config) -> Iterator:
    """The app over a module_database, configured as the tests' app fixture (plus
    ``config``), for a test module that builds its world once."""
    from portal import create_app

    with module_database(template, folder) as url:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test-secret-key",
                "DATABASE_URL": url,
                "INSTANCE_PATH": str(folder / "instance"),
                "SESSION_COOKIE_SECURE": False,
                "MAIL_SEND_AFTER_REQUEST": False,
                **config,
            }
        )
        try:
            yield app
        finally:
            app.extensions["portal.db"].dispose()


def statements_during(app, call) -> list[str]:
    """The SQL the app's engine ran while ``call`` ran."""
    from sqlalchemy import event

    from portal.db import get_engine

    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", note)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def given_twice(html: str) -> list[str]:
    """The ids a page gives more than once: a label or a link to one points at the first
    (a browser found the review page's "tell the researcher" box unnamed so). Hidden
    inputs too: an id is unique in valid HTML, and assistive technology reads a page
    whose ids repeat wrongly (a browser walk found each form's CSRF token id="csrf_token"
    on every page with several forms)."""
    ids = re.findall(r'<[a-z]+\b[^>]*\bid="([^"]+)"', html)
    return sorted({found for found in ids if ids.count(found) > 1})


def labels_on_lists(html: str) -> list[str]:
    """The lists (a radio group's) a label claims to name: a label names a control, never
    a list, so such a group has no name (a browser found the obligation's assessment
    and the output's review so); a fieldset's legend names it."""
    lists = set(re.findall(r'<ul\b[^>]*\bid="([^"]+)"', html))
    return sorted(lists & set(re.findall(r'<label\b[^>]*\bfor="([^"]+)"', html)))


def choose_french(client) -> None:
    """Choose French with the language switch every page carries (as a person does):
    the signed-in person's setting, else the cookie."""
    token = csrf_token(client.get("/").get_data(as_text=True))
    answer = client.post("/language", data={"language": "fr", "next": "/", "csrf_token": token})
    assert answer.status_code == 302, answer.status_code
