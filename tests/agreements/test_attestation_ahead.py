"""The destruction attestation is printed and signed before the write transaction, as an
agreement signature is (issue 14: SQLite without needless waiting); the transaction then
refuses it, writing nothing, if what it says changed meanwhile. And a researcher whose
signing credential can no longer be used gets a new one kept with the attestation.
Real database, real threads; the order of things is pinned with events, never times."""

import threading

import pytest
from sqlmodel import func, select

from portal.agreements.models import SignerCredential
from portal.agreements.signing import read_signatures
from portal.db import READS_FIRST, get_session, session_scope, start_writing, view_mode
from portal.errors import Refused
from portal.lifecycle import attestations
from portal.lifecycle.attestation_models import DestructionAttestation
from portal.storage import service as storage
from portal.workflow import commands as c
from portal.workflow import perform, perform_ahead

from agreement_kit import ATTEST, ca_certificate, request_of
from helpers import in_thread

HANG = 120  # a guard against a hung test, never an assertion about speed


def attestation_rows(app, ref: str) -> list[tuple[int, str, int]]:
    with app.app_context(), session_scope() as session:
        rows = attestations.attestations_of(session, request_of(session, ref))
        return [(row.number, row.sha256, row.credential_id) for row in rows]


def test_a_write_lands_while_an_attestation_is_being_signed(app, flow):
    ref = flow.ended()
    signed_ahead, other_done = threading.Event(), threading.Event()

    def researcher_attests():
        try:
            with app.test_request_context(f"/requests/{ref}/end/attest", method="POST"):
                session = get_session()
                user = flow.user(session, "researcher")
                command = perform_ahead(session, user, ref, c.AttestDestruction(**ATTEST))
                signed_ahead.set()  # printed and signed, not written: no write lock held
                assert other_done.wait(HANG)
                start_writing(session)
                status = perform(session, user, ref, command).status.value
                session.commit()
                return status, command.prepared
        finally:
            signed_ahead.set()  # also when it failed: the test reads why

    thread, outcome = in_thread(researcher_attests)
    assert signed_ahead.wait(HANG), outcome
    # Another writer is not kept waiting by the signing (on SQLite it would wait for
    # the lock while the attestation is printed and signed).
    assert flow.do("cedar_rep", "message", ref, channel="nation", nation="red-cedar") == "active"
    other_done.set()
    thread.join(HANG)
    status, prepared = outcome.get("value", (None, None))
    assert status == "active", outcome
    [(number, sha256, _credential)] = attestation_rows(app, ref)
    # What is kept is the PDF signed ahead, not one signed again under the lock.
    assert number == 1 and sha256 == storage.digest_of(prepared.pdf)
    with app.app_context(), session_scope() as session:
        pdf = storage.get(session, sha256)
    [signature] = read_signatures(pdf, ca_certificate(app))
    assert signature.field_name == "Researcher" and signature.valid and signature.intact


def test_an_attestation_whose_text_changed_while_it_was_signed_is_refused(app, flow):
    ref = flow.ended()
    with app.app_context(), session_scope() as session:
        user = flow.user(session, "researcher")
        stale = perform_ahead(session, user, ref, c.AttestDestruction(**ATTEST))
    assert stale.prepared.number == 1
    # Meanwhile, in another tab: attestation 1 is made, and a Nation asks for more, so a
    # second is due. The one signed ahead says "attestation 1": it is refused.
    flow.perform("researcher", ref, c.AttestDestruction(**ATTEST))
    more = c.AcknowledgeDestruction(nation="red-cedar", outcome="more_needed", comment="Tapes?")
    flow.perform("cedar_rep", ref, more)
    [first] = attestation_rows(app, ref)
    with pytest.raises(Refused) as refused, app.app_context(), session_scope() as session:
        perform(session, flow.user(session, "researcher"), ref, stale)
    assert [rule.rule for rule in refused.value.blocked_by] == ["changed_while_signing"]
    assert "nothing was signed" in refused.value.blocked_by[0].message
    assert attestation_rows(app, ref) == [first]
    # Signed again, it goes through as attestation 2.
    flow.perform("researcher", ref, c.AttestDestruction(**ATTEST))
    assert [number for number, *_ in attestation_rows(app, ref)] == [1, 2]


def test_an_attestation_by_a_researcher_whose_credential_cannot_be_used_keeps_a_new_one(app, flow):
    ref = flow.ended()
    with app.app_context(), session_scope() as session:
        researcher = flow.user(session, "researcher")
        researcher.name = "Robin Researcher-Okafor (fictional)"  # corrected since signing
        session.add(researcher)
        researcher_id = researcher.id
        count = select(func.count()).select_from(SignerCredential)
        before = session.exec(count.where(SignerCredential.user_id == researcher_id)).one()
    assert before == 1  # the one the agreement was signed with names the old name
    assert flow.perform("researcher", ref, c.AttestDestruction(**ATTEST)) == "active"
    [(_number, sha256, credential_id)] = attestation_rows(app, ref)
    with app.app_context(), session_scope() as session:
        kept = session.get(SignerCredential, credential_id)
        assert kept is not None and kept.user_id == researcher_id
        mine = SignerCredential.user_id == researcher_id
        rows = session.exec(select(SignerCredential).where(mine))
        assert len(rows.all()) == 2
        pdf = storage.get(session, sha256)
        made = session.exec(select(DestructionAttestation)).one()
        assert made.credential_id == credential_id
    [signature] = read_signatures(pdf, ca_certificate(app))
    assert "Okafor" in signature.signer and signature.valid


def test_the_page_and_the_api_attest_outside_the_write_lock(app):
    for endpoint in ("lifecycle.attest", "api.attest_destruction"):
        assert view_mode(app.view_functions[endpoint]) == READS_FIRST, endpoint
