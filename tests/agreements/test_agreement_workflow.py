"""Signing as a workflow transition: who may sign, once each, with their password; the
last signature activates the request; revocation, refusal, withdrawal and expiry mark
the agreement. A refused signature changes nothing at all."""

import hashlib
from datetime import timedelta

import pytest
from sqlmodel import func, select

from portal.agreements import ca, signing
from portal.agreements import service as agreements
from portal.agreements.models import AgreementSignature, AgreementStatus, AgreementVersion
from portal.agreements.settings import settings_for
from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.errors import Forbidden, NotFound, Refused, ServiceError, ValidationError
from portal.notify.models import OutboxMessage
from portal.storage.models import StoredFile
from portal.workflow import Expire, perform

from agreement_kit import SIGNERS, alter_stored, request_of
from helpers import race


def snapshot(app, ref: str) -> dict:
    """Everything a signature could change."""
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        agreement = agreements.current(session, request)
        count = lambda model: session.exec(select(func.count()).select_from(model)).one()  # noqa: E731
        return {
            "status": request.status.value,
            "agreement": (agreement.status.value, agreement.version, agreement.sha256),
            "signatures": count(AgreementSignature),
            "versions": count(AgreementVersion),
            "events": count(AuditEvent),
            "mail": count(OutboxMessage),
            "files": count(StoredFile),
        }


def test_the_agreement_is_issued_with_the_last_approval(app, flow):
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    with app.app_context(), session_scope() as session:
        assert agreements.current(session, request_of(session, ref)) is None
    flow.do("heron_rep", "decide", ref, "blue-heron")
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        agreement = agreements.current(session, request)
        assert agreement.status == AgreementStatus.AWAITING_SIGNATURES
        assert agreement.version == 0 and agreement.revision == request.current_revision
        approval = session.exec(
            select(AuditEvent).where(AuditEvent.request_id == request.id)
            .order_by(AuditEvent.id.desc())
        ).first()  # fmt: skip
        assert approval.action == "decision.approved"
        assert approval.details["agreement_sha256"] == agreement.sha256
        to_sign = session.exec(
            select(OutboxMessage.recipient).where(
                OutboxMessage.subject.contains("waits for")  # the representatives' notice
            )
        ).all()
        assert sorted(to_sign) == ["rep.cedar@example.org", "rep.heron@example.org"]


def test_three_signatures_make_the_request_active(app, flow, approved):
    statuses = [flow.do(who, "sign", approved, nation) for who, nation in SIGNERS]
    assert statuses == ["awaiting_signatures", "awaiting_signatures", "active"]
    with app.app_context(), session_scope() as session:
        request = request_of(session, approved)
        agreement = agreements.current(session, request)
        assert agreement.status == AgreementStatus.ACTIVE and agreement.version == 3
        versions = session.exec(
            select(AgreementVersion)
            .where(AgreementVersion.agreement_id == agreement.id)
            .order_by(AgreementVersion.number)
        ).all()
        # Every version's SHA-256 is recorded, and is the digest of the stored file.
        for version in versions:
            data = bytes(session.get(StoredFile, version.sha256).data)
            assert hashlib.sha256(data).hexdigest() == version.sha256 == version.sha256
            assert len(data) == version.size
        assert [v.number for v in versions] == [0, 1, 2, 3]
        assert versions[-1].sha256 == agreement.sha256
        signatures = agreements.signatures_of(session, agreement)
        assert [s.sha256_after for s in signatures] == [v.sha256 for v in versions[1:]]
        assert [(s.party, s.role) for s in signatures] == [
            ("researcher", "researcher"),
            (f"nation:{signatures[1].nation_id}", "representative"),
            (f"nation:{signatures[2].nation_id}", "representative"),
        ]
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.request_id == request.id, AuditEvent.action == "agreement.signed")
            .order_by(AuditEvent.id)
        ).all()
        assert [e.details["sha256"] for e in events] == [s.sha256_after for s in signatures]
        assert [e.details["activated"] for e in events] == [False, False, True]
        active = session.exec(
            select(OutboxMessage.recipient).where(OutboxMessage.subject.contains("is active"))
        ).all()
        expected = {"researcher@example.org", "rep.cedar@example.org", "coordinator@example.org"}
        assert expected <= set(active)


def test_a_wrong_password_changes_nothing(app, flow, approved):
    before = snapshot(app, approved)
    with pytest.raises(ValidationError) as refusal:
        flow.do("researcher", "sign", approved, password="not my password")
    assert "password" in refusal.value.errors
    assert snapshot(app, approved) == before


NON_PARTIES = [
    ("cedar_steward1", None, Forbidden),  # sees the request, is no party
    ("coordinator", None, Forbidden),
    ("admin", None, NotFound),  # may not even know of it
    ("other_researcher", None, NotFound),
    ("cedar_rep", "blue-heron", Forbidden),  # a representative, of the other Nation
]


def test_non_parties_cannot_sign(app, flow, approved):
    before = snapshot(app, approved)
    for who, nation, error in NON_PARTIES:  # one request: a refusal changes nothing
        with pytest.raises(error):
            flow.do(who, "sign", approved, nation)
        assert snapshot(app, approved) == before, who


def test_nobody_signs_twice(app, flow, approved):
    for number, (who, nation) in enumerate(SIGNERS, start=1):
        flow.do(who, "sign", approved, nation)
        before = snapshot(app, approved)
        with pytest.raises(Refused) as refusal:
            flow.do(who, "sign", approved, nation)
        # Once every party signed the request is active: nothing is signed any more.
        rule = "state" if number == len(SIGNERS) else "one_signature_per_party"
        assert [r.rule for r in refusal.value.blocked_by] == [rule]
        assert snapshot(app, approved) == before, who


def test_a_second_representative_cannot_sign_again_for_the_nation(app, flow, make_user, approved):
    make_user("rep2.cedar@example.org", ("representative", "red-cedar"))
    flow.do("cedar_rep", "sign", approved, "red-cedar")
    with pytest.raises(Refused):
        flow.do("rep2.cedar@example.org", "sign", approved, "red-cedar")


@pytest.mark.parametrize(
    ("ending", "request_status", "agreement_status", "signer"),
    [
        ("revoke", "revoked", AgreementStatus.REVOKED, ("cedar_rep", "red-cedar")),
        ("withdraw", "withdrawn", AgreementStatus.VOID, ("cedar_rep", "red-cedar")),
        ("refuse", "refused", AgreementStatus.VOID, ("heron_rep", "blue-heron")),
    ],
)
def test_no_signature_after_the_request_ends(
    app, flow, approved, ending, request_status, agreement_status, signer
):
    flow.do("researcher", "sign", approved)
    if ending == "revoke":
        flow.do("heron_rep", "revoke", approved, "blue-heron", reason="Breach of clause 3")
    elif ending == "withdraw":
        flow.do("researcher", "withdraw", approved, reason="Project cancelled")
    else:
        flow.do("cedar_rep", "decide", approved, "red-cedar", outcome="refuse", reason="No")
    assert flow.status(approved) == request_status
    before = snapshot(app, approved)
    assert before["agreement"][0] == agreement_status.value
    with pytest.raises(Refused) as refusal:
        flow.do(signer[0], "sign", approved, signer[1])
    assert [rule.rule for rule in refusal.value.blocked_by] == ["state"]
    assert snapshot(app, approved) == before


def test_revoking_an_active_agreement_marks_it_revoked(app, flow, signed):
    flow.do("cedar_rep", "revoke", signed.ref, "red-cedar", reason="Data used beyond purpose")
    with app.app_context(), session_scope() as session:
        agreement = agreements.current(session, request_of(session, signed.ref))
        assert agreement.status == AgreementStatus.REVOKED


def test_expiry_ends_access_at_the_end_of_the_term_only(app, flow, signed):
    with app.app_context(), session_scope() as session:
        request = request_of(session, signed.ref)
        end = agreements.current(session, request).term_end
        with pytest.raises(Refused):
            perform(session, None, signed.ref, Expire(today=end - timedelta(days=1)))
    with app.app_context(), session_scope() as session:
        perform(session, None, signed.ref, Expire(today=end))
    with app.app_context(), session_scope() as session:
        request = request_of(session, signed.ref)
        assert request.status.value == "expired"
        assert agreements.current(session, request).status == AgreementStatus.EXPIRED
        last = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert last.action == "request.expired" and last.actor_id is None


def test_a_changed_file_is_not_signed(app, flow, approved):
    with app.app_context(), session_scope() as session:
        digest = agreements.current(session, request_of(session, approved)).sha256
    alter_stored(app, digest)
    with pytest.raises(ServiceError, match=f"The stored file {digest} was changed"):
        flow.do("researcher", "sign", approved)
    assert flow.status(approved) == "awaiting_signatures"


def test_every_party_signing_at_once_and_a_double_click(app, flow, approved):
    calls = [
        lambda who=who, nation=nation: flow.do(who, "sign", approved, nation)
        for who, nation in SIGNERS
    ]
    results = race(*calls, calls[0])  # the researcher clicks twice
    assert sum(isinstance(r, str) for r in results) == 3, results
    assert sum(isinstance(r, Refused) for r in results) == 1, results
    assert flow.status(approved) == "active"
    with app.app_context(), session_scope() as session:
        agreement = agreements.current(session, request_of(session, approved))
        assert agreement.version == 3
        pdf = agreements.stored_pdf(session, agreement)
        ca_certificate = ca.authority(settings_for(session)).certificate
    # Each signature was made on the version the one before it left: all three hold.
    reports = signing.read_signatures(pdf, ca_certificate)
    assert len(reports) == 3 and all(r.intact and r.valid and r.trusted for r in reports)
