"""Recording audit events: the chain they form, the services that write them, and the
database refusing to change them."""

import contextlib
import hashlib
import json
from itertools import pairwise

import pytest
import sqlalchemy as sa
import sqlalchemy.exc
from sqlmodel import select

from portal.audit.chain import canonical_content, canonical_json, timestamp
from portal.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from portal.audit.service import events_for_request, record_event
from portal.auth import service as auth
from portal.db import get_engine, session_scope, utcnow
from portal.errors import ServiceError
from portal.registry import service as registry
from portal.workflow import create_draft

from helpers import ON_POSTGRES, nation_ids_of


def all_events(app) -> list[AuditEvent]:
    with app.app_context(), session_scope() as session:
        events = list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))
        session.expunge_all()
        return events


def test_the_hash_covers_the_documented_canonical_content(app, nations):
    """Pins the format by spelling it out, so writer and verifier cannot drift together."""
    with app.app_context(), session_scope() as session:
        nation = registry.get_nation(session, "blue-heron")
        other = registry.get_nation(session, "red-cedar")
        before = session.exec(select(AuditChainHead)).one().last_hash
        event = record_event(
            session,
            action="test.pinned",
            actor=None,
            nations=[nation, other],
            details={"b": "é", "a": [1, 2.5, None]},
            client_address="192.0.2.7",
        )
        expected = (
            '{"action":"test.pinned","actor_id":null,"actor_label":"system",'
            '"client_address":"192.0.2.7","details":{"a":[1,2.5,null],"b":"\\u00e9"},'
            f'"id":{event.id},"nation_ids":[{min(nation.id, other.id)},{max(nation.id, other.id)}],'
            f'"occurred_at":"{event.occurred_at.isoformat(timespec="microseconds")}",'
            f'"prev_hash":"{before}","request_id":null}}'
        )
        assert event.occurred_at.utcoffset().total_seconds() == 0
        assert event.hash == hashlib.sha256(expected.encode()).hexdigest()


def test_events_form_a_gapless_chain_from_the_genesis_hash(app, make_user):
    make_user("a@example.org", "researcher")  # user.created, role.granted
    make_user("b@example.org", "coordinator")
    events = all_events(app)
    assert [e.id for e in events] == [1, 2, 3, 4]
    assert events[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(events))
    with app.app_context(), session_scope() as session:
        head = session.exec(select(AuditChainHead)).one()
        assert (head.last_event_id, head.last_hash) == (4, events[-1].hash)


def test_details_are_stored_exactly_as_hashed_and_bad_input_writes_nothing(app):
    with app.app_context(), session_scope() as session:
        event = record_event(session, action="test.tuple", actor=None, details={"t": (1, 2)})
        assert event.details == {"t": [1, 2]}
    for bad in [
        dict(action="NotDotted", details={}),
        dict(action="test.date", details={"when": object()}),
        dict(action="test.nan", details={"x": float("nan")}),
    ]:
        with pytest.raises((ValueError, TypeError)), app.app_context(), session_scope() as s:
            record_event(s, actor=None, **bad)
    assert [e.action for e in all_events(app)] == ["test.tuple"]


def test_no_event_without_its_change_and_no_change_without_its_event(app):
    with pytest.raises(RuntimeError), app.app_context(), session_scope() as session:
        registry.create_nation(session, "lost-nation", "Lost (fictional)", "CARE")
        raise RuntimeError("the transaction fails after the change and its event")
    assert all_events(app) == []
    with app.app_context(), session_scope() as session:
        assert session.exec(select(AuditChainHead)).first() is None
        registry.create_nation(session, "kept-nation", "Kept (fictional)", "CARE")
    assert [e.id for e in all_events(app)] == [1]


def granted_steward(session, actor):
    user = auth.get_user(session, "s@example.org")
    return auth.grant_role(session, user, "steward", registry.get_nation(session, "red-cedar"),
                           actor=actor)  # fmt: skip


def granted_coordinator(session, actor):
    user = auth.get_user(session, "c@example.org")
    return auth.grant_role(session, user, "coordinator", actor=actor)


def created_token(session, actor):
    user = auth.get_user(session, "t@example.org")
    token, _record = auth.create_api_token(session, user, "laptop", actor=actor)
    return token


def registered_nation(session, actor):
    return registry.create_nation(session, "new-nation", "New Nation (fictional)", "OCAP",
                                  review_quorum=2, residency=["CA"], actor=actor)  # fmt: skip


def registered_dataset(session, actor):
    return registry.create_dataset(session, "new-data", "New data", "A ministry (fictional)",
                                   ["blue-heron", "red-cedar"], actor=actor)  # fmt: skip


def created_user(session, actor):
    return auth.create_user(session, "u@example.org", "U", "long enough password", actor=actor)


SERVICES = [
    # (call, action, slugs of the Nations concerned, expected details subset)
    (created_user, "user.created", [], {"user": "u@example.org"}),
    (granted_steward, "role.granted", ["red-cedar"],
     {"user": "s@example.org", "role": "steward", "nation": "red-cedar"}),
    (granted_coordinator, "role.granted", [],
     {"user": "c@example.org", "role": "coordinator", "nation": None}),
    (created_token, "token.created", [], {"user": "t@example.org", "name": "laptop"}),
    (registered_nation, "nation.registered", ["new-nation"],
     {"slug": "new-nation", "profile": {"framework": "OCAP", "review_quorum": 2,
      "min_approvals": 1, "residency": ["CA"], "max_term_days": None,
      "output_review_required": True, "small_cell_threshold": 5, "remind_review_days": 14,
      "remind_decision_days": 14, "remind_signature_days": 14, "remind_report_days": 14,
      "attestation_due_days": 30}}),
    (registered_dataset, "dataset.registered", ["blue-heron", "red-cedar"],
     {"slug": "new-data", "nations": ["blue-heron", "red-cedar"]}),
]  # fmt: skip


@pytest.mark.parametrize("call, action, slugs, details", SERVICES, ids=lambda v: str(v)[:20])
@pytest.mark.parametrize("by_a_person", [False, True], ids=["system", "person"])
def test_each_service_writes_exactly_one_matching_event(
    app, nations, make_user, call, action, slugs, details, by_a_person
):
    actor_id = make_user("admin@example.org", "admin") if by_a_person else None
    for email in ("s@example.org", "c@example.org", "t@example.org"):  # the people acted on
        make_user(email)
    already = len(all_events(app))
    with app.app_context(), session_scope() as session:
        actor = session.get(auth.User, actor_id) if actor_id else None
        result = call(session, actor)
    new = all_events(app)[already:]
    assert [e.action for e in new] == [action]
    event = new[0]
    assert event.details | details == event.details
    assert (event.actor_id, event.actor_label) == (
        (actor_id, "admin@example.org") if by_a_person else (None, "system")
    )
    with app.app_context(), session_scope() as session:
        expected = sorted(registry.get_nation(session, slug).id for slug in slugs)
        assert nation_ids_of(session, event) == expected
    if action == "token.created":
        assert result not in json.dumps(event.details)  # never the token itself


REFUSED = [
    lambda s: registry.create_nation(s, "Bad Slug", "Bad", "OCAP"),
    lambda s: registry.create_nation(s, "red-cedar", "Duplicate", "OCAP"),
    lambda s: registry.create_dataset(s, "orphan-data", "T", "C", ["no-such-nation"]),
    lambda s: registry.create_dataset(s, "cedar-health", "T", "C", ["red-cedar"]),
    lambda s: auth.grant_role(s, auth.get_user(s, "r@example.org"), "steward"),
    lambda s: auth.grant_role(s, auth.get_user(s, "r@example.org"), "researcher"),  # held already
]


@pytest.mark.parametrize("call", REFUSED, ids=range(len(REFUSED)))
def test_a_refused_or_idempotent_call_writes_no_event(app, nations, make_user, call):
    make_user("r@example.org", "researcher")
    before = all_events(app)
    # Refused (an error) or idempotent (no error), nothing may be recorded.
    with app.app_context(), session_scope() as session, contextlib.suppress(ServiceError):
        call(session)
    assert [e.id for e in all_events(app)] == [e.id for e in before]


def test_events_for_request_pages_oldest_first(app, nations, make_user):
    researcher_id = make_user("r@example.org", "researcher")
    with app.app_context(), session_scope() as session:
        researcher = session.get(auth.User, researcher_id)
        mine, other = (create_draft(session, researcher, {"title": t}) for t in ("A", "B"))
        for number in range(5):
            for request in (mine, other):
                record_event(session, action="test.step", actor=researcher, request=request,
                             details={"n": number})  # fmt: skip
        first = events_for_request(session, mine, limit=2)
        rest = events_for_request(session, mine, after_id=first[-1].id, limit=10)
        pages = first + rest
        assert pages[0].action == "request.created"
        assert [e.details["n"] for e in pages[1:]] == [0, 1, 2, 3, 4]
        assert {e.request_id for e in pages} == {mine.id}
        assert [e.id for e in pages] == sorted(e.id for e in pages)


def disallowed_changes():
    yield "UPDATE audit_event SET action = 'forged.action' WHERE id = 1"
    yield "DELETE FROM audit_event WHERE id = 1"
    yield "UPDATE audit_event_nation SET nation_id = nation_id WHERE event_id = 1"
    yield "DELETE FROM audit_event_nation WHERE event_id = 1"
    if ON_POSTGRES:
        yield "TRUNCATE audit_event_nation"
        yield "TRUNCATE audit_event CASCADE"


@pytest.mark.parametrize("statement", list(disallowed_changes()))
def test_the_database_refuses_to_change_or_remove_events(app, nations, statement):
    with app.app_context():
        engine = get_engine()
    with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"), engine.begin() as c:
        c.exec_driver_sql(statement)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM audit_event_nation")).scalar()
        assert connection.execute(sa.text("SELECT count(*) FROM audit_event")).scalar() == 5


@pytest.mark.parametrize(
    "values",
    [
        dict(event_id=1, actor_id=None, actor_label="system", action="a.b", request_id=None,
             nation_ids=[], details={}, client_address=None),
        dict(event_id=123456, actor_id=7, actor_label='Zoë "Q" \\ O\'Neil\n',
             action="request.submitted", request_id=42, nation_ids=[3, 11, 200],
             details={"z": [1, {"é": None}], "a": "ⓐ 😀", "n": -1.5e-7, "t": True},
             client_address="2001:db8::ff"),
    ],
)  # fmt: skip
def test_the_spelt_out_content_is_the_canonical_json_of_the_event(values):
    moment = utcnow()
    by_hand = canonical_content(
        **{k: v for k, v in values.items() if k != "details"},
        occurred_at=timestamp(moment),
        details_json=canonical_json(values["details"]),
        prev_hash="ab" * 32,
    )
    as_object = {k: v for k, v in values.items() if k != "event_id"} | {
        "id": values["event_id"],
        "occurred_at": timestamp(moment),
        "prev_hash": "ab" * 32,
    }
    assert by_hand == canonical_json(as_object)
    assert json.loads(by_hand) == json.loads(json.dumps(as_object))
