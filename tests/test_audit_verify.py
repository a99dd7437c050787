"""`portal audit verify` finds tampering done behind the portal's back: raw SQL by
someone with direct database access, the append-only triggers out of the way."""

from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa

from portal.audit.chain import event_hash
from portal.audit.models import AuditChainHead, AuditEvent, AuditEventNation
from portal.audit.service import record_event
from portal.audit.verify import ChainReport, verify_chain
from portal.auth import service as auth
from portal.auth.models import User
from portal.db import get_engine, session_scope
from portal.registry import service as registry
from portal.requests.models import AccessRequest
from portal.requests.service import new_ref

from helpers import ON_POSTGRES

EVENTS = AuditEvent.__table__
LINKS = AuditEventNation.__table__
HEAD = AuditChainHead.__table__
APPEND_ONLY_TABLES = ("audit_event", "audit_event_nation")


@pytest.fixture
def chain(app, nations):
    """Ten events: 1-5 the registry's (with Nations), 6 a role, 7 with a request,
    Nations and a client address, 8-10 plain ones. The person and the request are
    written as bare rows, so only these ten events exist."""
    with app.app_context(), session_scope() as session:
        researcher = User(email="r@example.org", name="R", password_hash="unused")
        session.add(researcher)
        session.flush()
        request = AccessRequest(ref=new_ref(), researcher_id=researcher.id, title="A study")
        session.add(request)
        session.flush()
        auth.grant_role(session, researcher, "researcher")
        record_event(
            session,
            action="request.created",
            actor=researcher,
            request=request,
            nations=[registry.get_nation(session, "red-cedar")],
            details={"ref": request.ref},
            client_address="2001:db8::1",
        )
        for number in range(3):
            record_event(session, action="test.step", actor=None, details={"n": number})
    return get_engine(app)


def behind_the_portals_back(engine, tamper) -> None:
    """Run ``tamper(connection)`` with the append-only triggers disabled (PostgreSQL,
    re-enabled in the same transaction) or dropped (SQLite, this test's own copy)."""
    with engine.begin() as connection:
        for table in APPEND_ONLY_TABLES:
            if ON_POSTGRES:
                connection.exec_driver_sql(
                    f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"
                )
            else:
                connection.exec_driver_sql(f"DROP TRIGGER {table}_refuse_update")
                connection.exec_driver_sql(f"DROP TRIGGER {table}_refuse_delete")
        tamper(connection)
        if ON_POSTGRES:
            for table in APPEND_ONLY_TABLES:
                connection.exec_driver_sql(
                    f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"
                )


def event_row(connection, event_id: int) -> dict:
    return dict(connection.execute(sa.select(EVENTS).where(EVENTS.c.id == event_id)).one()._mapping)


def update(connection, event_id: int, **values) -> None:
    connection.execute(sa.update(EVENTS).where(EVENTS.c.id == event_id).values(**values))


def delete(connection, *event_ids: int) -> None:
    connection.execute(sa.delete(LINKS).where(LINKS.c.event_id.in_(event_ids)))
    connection.execute(sa.delete(EVENTS).where(EVENTS.c.id.in_(event_ids)))


def forged(connection, event_id: int, prev_hash: str, **changes) -> dict:
    """A well-formed event at ``event_id`` chained to ``prev_hash``, its hash computed."""
    values = event_row(connection, 10) | {"id": event_id, "prev_hash": prev_hash} | changes
    values["hash"] = rehash(values, [])
    return values


HASHED_COLUMNS = ("occurred_at", "actor_id", "actor_label", "action", "request_id", "details",
                  "client_address", "prev_hash")  # fmt: skip


def rehash(values: dict, nation_ids: list[int]) -> str:
    fields = {name: values[name] for name in HASHED_COLUMNS}
    return event_hash(event_id=values["id"], nation_ids=nation_ids, **fields)


def insert_at_the_end(connection) -> None:
    last = event_row(connection, 10)
    connection.execute(sa.insert(EVENTS).values(forged(connection, 11, last["hash"])))


def insert_in_the_middle(connection) -> None:
    for event_id in (10, 9, 8):  # one by one: PostgreSQL checks the key row by row
        update(connection, event_id, id=event_id + 1)
    seventh = event_row(connection, 7)
    connection.execute(sa.insert(EVENTS).values(forged(connection, 8, seventh["hash"])))


def swap_8_and_9(connection) -> None:
    eighth, ninth = event_row(connection, 8), event_row(connection, 9)
    update(connection, 8, **{k: v for k, v in ninth.items() if k != "id"})
    update(connection, 9, **{k: v for k, v in eighth.items() if k != "id"})


def alter_and_rehash_8(connection) -> None:
    eighth = event_row(connection, 8) | {"details": {"n": 99}}
    update(connection, 8, details=eighth["details"], hash=rehash(eighth, []))


def unlink_a_nation(connection) -> None:
    connection.execute(sa.delete(LINKS).where(LINKS.c.event_id == 5, LINKS.c.nation_id == 1))


def link_a_nation(connection) -> None:
    connection.execute(sa.insert(LINKS).values(event_id=6, nation_id=1))


def head_back_by_one(connection) -> None:
    ninth = event_row(connection, 9)
    connection.execute(sa.update(HEAD).values(last_event_id=9, last_hash=ninth["hash"]))


def later(connection) -> None:
    update(connection, 2, occurred_at=event_row(connection, 2)["occurred_at"] + timedelta(1))


TAMPERING = [
    # (what was done, how, the event named, what is wrong with it)
    ("changed action", lambda c: update(c, 7, action="request.approved"), 7, "altered content"),
    ("changed details", lambda c: update(c, 3, details={"slug": "x"}), 3, "altered content"),
    ("changed time", later, 2, "altered content"),
    ("changed actor", lambda c: update(c, 6, actor_label="someone@else.org"), 6, "altered content"),
    ("changed address", lambda c: update(c, 7, client_address=None), 7, "altered content"),
    ("changed request", lambda c: update(c, 7, request_id=None), 7, "altered content"),
    ("a Nation removed", unlink_a_nation, 5, "altered content"),
    ("a Nation added", link_a_nation, 6, "altered content"),
    ("altered and re-hashed", alter_and_rehash_8, 8, "altered content"),
    ("deleted in the middle", lambda c: delete(c, 4), 4, "missing"),
    ("deleted the first", lambda c: delete(c, 1), 1, "missing"),
    ("deleted the last", lambda c: delete(c, 10), 10, "missing"),
    ("deleted the last two", lambda c: delete(c, 9, 10), 9, "missing"),
    ("inserted at the end", insert_at_the_end, 11, "inserted"),
    ("inserted in the middle", insert_in_the_middle, 8, "inserted"),
    ("swapped", swap_8_and_9, 8, "out of order"),
    ("head removed", lambda c: c.execute(sa.delete(HEAD)), 10, "altered content"),
    ("head moved back", head_back_by_one, 10, "inserted"),
]


def verify(runner):
    with runner.app.app_context():
        return runner.invoke(args=["audit", "verify"])


def test_an_untouched_chain_verifies(chain, runner):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert result.stdout == "10 events, chain intact\n"
    # ... on the fast path: the stored text hashed as it is, no event read twice.
    assert verify_chain(chain) == ChainReport(events=10, problem=None, rechecked=0)


def test_an_empty_record_verifies(runner):
    result = verify(runner)
    assert (result.exit_code, result.stdout) == (0, "0 events, chain intact\n")


def test_the_same_details_spelt_differently_are_not_an_alteration(chain):
    respell = sa.text(
        "UPDATE audit_event SET details = CAST(:text AS json) WHERE id = 9"
        if ON_POSTGRES
        else "UPDATE audit_event SET details = :text WHERE id = 9"
    )
    # Event 9's details, {"n": 1}, spelt another way.
    behind_the_portals_back(chain, lambda c: c.execute(respell, {"text": '{ "n" : 1 }'}))
    with chain.connect() as connection:
        stored = connection.execute(sa.text("SELECT CAST(details AS TEXT) FROM audit_event "
                                            "WHERE id = 9")).scalar()  # fmt: skip
    assert stored == '{ "n" : 1 }'
    assert verify_chain(chain) == ChainReport(events=10, problem=None, rechecked=1)


@pytest.mark.parametrize("what, tamper, event_id, kind", TAMPERING, ids=[t[0] for t in TAMPERING])
def test_tampering_is_found_and_the_first_bad_event_named(chain, runner, what, tamper, event_id,
                                                          kind):  # fmt: skip
    behind_the_portals_back(chain, tamper)
    result = verify(runner)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: event {event_id}: {kind} (")
    assert result.stderr.count("\n") == 1


def test_appending_goes_on_after_verify_and_stays_intact(chain, runner, app):
    assert verify(runner).exit_code == 0
    with app.app_context(), session_scope() as session:
        record_event(session, action="test.after", actor=None)
    assert verify(runner).stdout == "11 events, chain intact\n"


@pytest.mark.skipif(not ON_POSTGRES, reason="libpq's streaming modes are PostgreSQL's")
def test_with_an_older_libpq_server_side_cursors_stream_the_chain(chain, monkeypatch):
    monkeypatch.setattr(psycopg.pq, "version", lambda: 160000)  # no chunked rows before 17
    assert verify_chain(chain) == ChainReport(events=10, problem=None, rechecked=0)
    behind_the_portals_back(chain, lambda c: delete(c, 4))
    assert str(verify_chain(chain).problem).startswith("event 4: missing")
