"""SQLite without needless waiting (issue 14): a request that only reads takes no write
lock, and a signature is computed outside the write transaction, which refuses it,
writing nothing, if the agreement changed meanwhile. Real database files (or
PostgreSQL), real threads; the order of things is pinned with events, never times."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from portal.agreements import service as agreements
from portal.agreements.models import AgreementSignature, SignerCredential
from portal.audit.events import EventType
from portal.audit.models import AuditEvent
from portal.auth.models import ApiToken
from portal.db import WriteWhileReading, get_session, pinned_clock, session_scope, start_writing
from portal.errors import Refused, ValidationError
from portal.requests.models import AccessRequest
from portal.workflow import Sign, perform, perform_ahead

from helpers import ON_POSTGRES, PASSWORD, in_thread, sign_in

# A guard against a hung test, never an assertion about speed.
HANG = 120


def request_row(session, ref: str) -> AccessRequest:
    return session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()


def agreement_state(app, ref: str):
    """The agreement's version, its signatures' parties, and the signing events."""
    with app.app_context(), session_scope() as session:
        request = request_row(session, ref)
        agreement = agreements.current(session, request)
        parties = sorted(s.party for s in agreements.signatures_of(session, agreement))
        events = session.exec(
            select(AuditEvent).where(
                AuditEvent.request_id == request.id,
                AuditEvent.action == EventType.AGREEMENT_SIGNED,
            )
        ).all()
        return agreement.version, parties, len(events)


def credentials_of(app, flow, who: str) -> int:
    with app.app_context(), session_scope() as session:
        user = flow.user(session, who)
        rows = session.exec(select(SignerCredential).where(SignerCredential.user_id == user.id))
        return len(rows.all())


def events_of(session, ref: str) -> int:
    query = select(AuditEvent).where(AuditEvent.request_id == request_row(session, ref).id)
    return len(session.exec(query).all())


def test_an_open_read_does_not_keep_a_write_waiting(app, flow):
    ref = flow.to_review()
    with app.test_request_context(f"/requests/{ref}", method="GET"):
        session = get_session()
        before = events_of(session, ref)  # the page's read transaction is open from here
        # With BEGIN IMMEDIATE the page held the write lock: the writer waited out its
        # busy timeout and failed. Now it lands while the page's transaction is open.
        thread, outcome = in_thread(
            lambda: flow.do("researcher", "message", ref, body="Written while a page reads.")
        )
        thread.join(HANG)
        assert outcome == {"value": "under_review"}
        if not ON_POSTGRES:  # SQLite reads one snapshot; PostgreSQL reads what is committed
            assert events_of(session, ref) == before
    with app.app_context(), session_scope() as session:
        assert events_of(session, ref) == before + 1


def test_a_read_that_writes_without_saying_so_is_refused(app, flow):
    ref = flow.to_review()
    with app.test_request_context(f"/requests/{ref}", method="GET"):
        session = get_session()
        request = request_row(session, ref)
        request.title = "Changed by a page that only reads"
        session.add(request)
        with pytest.raises(WriteWhileReading):
            session.flush()
        session.rollback()
    with app.app_context(), session_scope() as session:
        assert request_row(session, ref).title != "Changed by a page that only reads"


def test_a_page_renders_while_an_agreement_is_being_signed(app, flow, client):
    ref = flow.approved()
    signed_ahead, page_done = threading.Event(), threading.Event()

    def researcher_signs():
        with app.test_request_context(f"/requests/{ref}/sign", method="POST"):
            session = get_session()
            user = flow.user(session, "researcher")
            command = perform_ahead(session, user, ref, Sign(password=PASSWORD))
            signed_ahead.set()  # signed, not yet written: it holds no write lock
            assert page_done.wait(HANG)
            start_writing(session)
            status = perform(session, user, ref, command).status.value
            session.commit()
            return status

    thread, outcome = in_thread(researcher_signs)
    assert signed_ahead.wait(HANG), outcome
    assert sign_in(client, "rep.cedar@example.org").status_code == 302
    assert client.get(f"/requests/{ref}").status_code == 200
    # A write lands too (a message changes nothing the signature covers).
    assert flow.do("cedar_rep", "message", ref, channel="nation", nation="red-cedar") == (
        "awaiting_signatures"
    )
    assert agreement_state(app, ref) == (0, [], 0)  # the page saw it unsigned
    page_done.set()
    thread.join(HANG)
    assert outcome == {"value": "awaiting_signatures"}
    assert agreement_state(app, ref) == (1, ["researcher"], 1)


def test_a_signature_over_a_version_another_party_signed_meanwhile_is_refused(app, flow):
    ref = flow.approved()
    with app.app_context(), session_scope() as session:
        user = flow.user(session, "researcher")
        command = perform_ahead(session, user, ref, Sign(password=PASSWORD))
    flow.do("cedar_rep", "sign", ref, "red-cedar")  # version 1 now: the snapshot is stale
    with pytest.raises(Refused) as refused, app.app_context(), session_scope() as session:
        perform(session, flow.user(session, "researcher"), ref, command)
    assert [rule.rule for rule in refused.value.blocked_by] == ["changed_while_signing"]
    assert agreement_state(app, ref) == (1, ["nation:" + nation_id(app, "red-cedar")], 1)
    assert credentials_of(app, flow, "researcher") == 0  # the key issued for it is not kept
    # Signed again, over the new version, it goes through.
    assert flow.do("researcher", "sign", ref) == "awaiting_signatures"


def test_a_signature_on_a_request_revoked_meanwhile_is_refused(app, flow):
    ref = flow.approved()
    with app.app_context(), session_scope() as session:
        user = flow.user(session, "researcher")
        command = perform_ahead(session, user, ref, Sign(password=PASSWORD))
    flow.do("cedar_rep", "revoke", ref, "red-cedar", reason="Consent withdrawn.")
    with pytest.raises(Refused) as refused, app.app_context(), session_scope() as session:
        perform(session, flow.user(session, "researcher"), ref, command)
    assert [rule.rule for rule in refused.value.blocked_by] == ["state"]
    assert agreement_state(app, ref) == (0, [], 0)
    with app.app_context(), session_scope() as session:
        assert session.exec(select(AgreementSignature)).all() == []


def test_a_wrong_password_is_refused_before_anything_is_signed(app, flow):
    ref = flow.approved()
    with app.app_context(), session_scope() as session:
        user = flow.user(session, "researcher")
        with pytest.raises(ValidationError) as wrong:
            perform_ahead(session, user, ref, Sign(password="not the password"))
    assert list(wrong.value.errors) == ["password"]
    assert credentials_of(app, flow, "researcher") == 0


def nation_id(app, slug: str) -> str:
    from portal.registry import service as registry

    with app.app_context(), session_scope() as session:
        return str(registry.get_nation(session, slug).id)


def test_an_api_read_stamps_its_token_once_a_minute(app, flow):
    from apis import Api

    api = Api(app)
    moment = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with pinned_clock(moment):
        assert api.get("researcher", "/me").status_code == 200
    with pinned_clock(moment + timedelta(seconds=30)):
        assert api.get("researcher", "/me").status_code == 200
    assert last_used(app) == moment  # within the minute: the read wrote nothing
    with pinned_clock(moment + timedelta(minutes=1)):
        assert api.get("researcher", "/me").status_code == 200
    assert last_used(app) == moment + timedelta(minutes=1)


def last_used(app) -> datetime:
    with app.app_context(), session_scope() as session:
        return session.exec(select(ApiToken.last_used_at)).one()
