"""The end of access (issue 11, part 4): revocation, expiry or the researcher closing
early make a destruction attestation due; the researcher attests it, signed like the
agreement; each Nation acknowledges it or asks for more; the last acknowledgement
closes the request. Refused steps change nothing; each Nation's answer is its own and
the researcher's (invariant 9)."""

import io
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlmodel import func, select

from portal.agreements import service as agreements
from portal.agreements import signing
from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.errors import Forbidden, NotFound, Refused, ValidationError
from portal.lifecycle import attestations
from portal.lifecycle.attestation_models import (
    AccessEnding,
    DestructionAcknowledgement,
    DestructionAttestation,
)
from portal.notify.models import OutboxMessage
from portal.registry import service as registry
from portal.storage.models import StoredFile
from portal.workflow import Expire, perform
from portal.workflow import commands as c

from agreement_kit import ATTEST, request_of
from apis import Api, problem

SECRET_ASK = "Cedar asks for the backup tapes' certificate (sentinel A9)"


def attest(flow, ref, **changes):
    return flow.perform("researcher", ref, c.AttestDestruction(**{**ATTEST, **changes}))


def answer(flow, who, ref, nation, outcome="acknowledged", comment=""):
    command = c.AcknowledgeDestruction(nation=nation, outcome=outcome, comment=comment)
    return flow.perform(who, ref, command)


def snapshot(app, ref: str) -> tuple:
    with app.app_context(), session_scope() as session:
        count = lambda model: session.exec(select(func.count()).select_from(model)).one()  # noqa: E731
        return (
            request_of(session, ref).status.value,
            count(AccessEnding),
            count(DestructionAttestation),
            count(DestructionAcknowledgement),
            count(AuditEvent),
            count(OutboxMessage),
            count(StoredFile),
        )


def ending(app, ref):
    with app.app_context(), session_scope() as session:
        found = attestations.ending_of(session, request_of(session, ref))
        return found.reason if found else None


def test_nothing_is_due_while_access_lasts_and_refused_steps_change_nothing(app, flow, signed):
    ref = signed.ref
    before = snapshot(app, ref)
    with pytest.raises(Refused):
        attest(flow, ref)  # access has not ended
    with pytest.raises(Refused):
        answer(flow, "cedar_rep", ref, "red-cedar")
    with pytest.raises(Forbidden):
        flow.perform("cedar_rep", ref, c.Close())  # the researcher's step
    assert snapshot(app, ref) == before
    assert ending(app, ref) is None


def test_closing_early_then_attest_and_every_nation_acknowledges(app, flow, signed):
    ref = signed.ref
    assert flow.perform("researcher", ref, c.Close(reason="Project finished early")) == "active"
    assert ending(app, ref) == "closed_early"
    with pytest.raises(Refused):
        flow.perform("researcher", ref, c.Close())  # once
    # Found in a probe: a Nation could revoke after the close, ending access a second
    # time and recording a revocation of a request its researcher closed.
    before = snapshot(app, ref)
    with pytest.raises(Refused, match="Access has ended already"):
        flow.perform("cedar_rep", ref, c.Revoke(nation="red-cedar", reason="Too late."))
    assert snapshot(app, ref) == before and ending(app, ref) == "closed_early"

    assert attest(flow, ref) == "active"
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        made = attestations.latest(session, request)
        pdf = attestations.stored_pdf(session, made)
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "destruction.attested")
        ).one()
        assert event.details["sha256"] == made.sha256
        mailed = session.exec(
            select(OutboxMessage.recipient).where(OutboxMessage.subject.contains("waits for"))
        ).all()
        assert "rep.cedar@example.org" in mailed and "s.heron@example.org" in mailed
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Destruction attestation" in text and "Secure erase" in text
    reports = signing.read_signatures(pdf, signed.ca_certificate)
    assert [(r.field_name, r.title) for r in reports] == [("Researcher", "Researcher")]
    assert all((r.intact, r.valid, r.trusted, r.whole_file) for r in reports)

    with pytest.raises(Refused):
        attest(flow, ref)  # it is with the Nations now
    assert answer(flow, "cedar_steward1", ref, "red-cedar") == "active"
    with pytest.raises(Refused):
        answer(flow, "cedar_rep", ref, "red-cedar")  # Red Cedar answered already
    assert answer(flow, "heron_rep", ref, "blue-heron") == "closed"
    with app.app_context(), session_scope() as session:
        last = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert last.action == "request.closed"


def test_more_needed_sends_it_back_for_a_new_attestation(app, flow, signed):
    ref = signed.ref
    flow.do("cedar_rep", "revoke", ref, "red-cedar", reason="Data used beyond purpose")
    assert ending(app, ref) == "revoked"
    attest(flow, ref)
    before = snapshot(app, ref)
    with pytest.raises(ValidationError) as error:
        answer(flow, "cedar_rep", ref, "red-cedar", "more_needed")  # says what more
    assert "comment" in error.value.errors
    assert snapshot(app, ref) == before
    assert answer(flow, "cedar_rep", ref, "red-cedar", "more_needed", SECRET_ASK) == "revoked"
    assert answer(flow, "heron_rep", ref, "blue-heron") == "revoked"
    with pytest.raises(Refused):
        answer(flow, "heron_rep", ref, "blue-heron")  # its acknowledgement stands
    assert attest(flow, ref, method="Tapes degaussed; certificate attached") == "revoked"
    assert answer(flow, "cedar_rep", ref, "red-cedar") == "closed"
    with app.app_context(), session_scope() as session:
        assert len(attestations.attestations_of(session, request_of(session, ref))) == 2


def test_expiry_makes_an_attestation_due_and_overdue_after_the_nations_days(app, flow, signed):
    ref = signed.ref
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        end = agreements.current(session, request).term_end
        registry.get_nation(session, "blue-heron").attestation_due_days = 10
    with app.app_context(), session_scope() as session:
        perform(session, None, ref, Expire(today=end))
    assert ending(app, ref) == "expired"
    with app.app_context(), session_scope() as session:
        started = attestations.ending_of(session, request_of(session, ref)).ended_at.date()
        assert attestations.overdue_attestations(session, started + timedelta(days=10)) == []
        late = attestations.overdue_attestations(session, started + timedelta(days=11))
        assert [(o.ref, o.nation.slug) for o in late] == [(ref, "blue-heron")]
        later = attestations.overdue_attestations(session, started + timedelta(days=31))
        assert {o.nation.slug for o in later} == {"red-cedar", "blue-heron"}
    attest(flow, ref)
    with app.app_context(), session_scope() as session:
        assert attestations.overdue_attestations(session, date.today() + timedelta(days=99)) == []


def test_wrong_input_names_each_field_and_writes_nothing(app, flow, signed):
    ref = signed.ref
    flow.perform("researcher", ref, c.Close())
    before = snapshot(app, ref)
    future = str(date.today() + timedelta(days=2))
    with pytest.raises(ValidationError) as error:
        attest(flow, ref, what=" ", method="", done_by="", done_on=future, password="wrong")
    assert set(error.value.errors) == {"what", "method", "done_by", "done_on", "password"}
    # Python's fromisoformat reads the last two as days: no one typing a day means them.
    for written in ("15/01/2027", "20260115", "2026-W03-4"):
        with pytest.raises(ValidationError) as error:
            attest(flow, ref, done_on=written)
        assert "YYYY-MM-DD" in error.value.errors["done_on"], written
    assert snapshot(app, ref) == before


def test_who_may_attest_and_answer(app, flow, signed, make_user):
    ref = signed.ref
    flow.perform("researcher", ref, c.Close())
    with pytest.raises(NotFound):
        flow.perform("other_researcher", ref, c.AttestDestruction(**ATTEST))
    attest(flow, ref)
    before = snapshot(app, ref)
    with pytest.raises(Forbidden):
        answer(flow, "coordinator", ref, "red-cedar")
    with pytest.raises(Forbidden):
        answer(flow, "heron_rep", ref, "red-cedar")  # not its Nation
    with pytest.raises(NotFound):
        answer(flow, "other_researcher", ref, "red-cedar")
    with app.app_context(), session_scope() as session:  # a Nation the request never touched
        registry.create_nation(session, "green-kestrel", "Green Kestrel (fictional)", "OCAP")
    make_user("rep.kestrel@example.org", ("representative", "green-kestrel"))
    before = snapshot(app, ref)
    with pytest.raises(NotFound):
        answer(flow, "rep.kestrel@example.org", ref, "red-cedar")
    assert snapshot(app, ref) == before


def test_a_nations_answer_is_its_own_and_the_researchers(app, flow, signed):
    ref = signed.ref
    flow.perform("researcher", ref, c.Close())
    attest(flow, ref)
    answer(flow, "cedar_rep", ref, "red-cedar", "more_needed", SECRET_ASK)
    api = Api(app)
    for who, reads in {
        "researcher": True,
        "cedar_steward1": True,
        "cedar_rep": True,
        "heron_rep": False,
        "heron_steward": False,
        "coordinator": False,
    }.items():
        events = api.get(who, f"/requests/{ref}/events?limit=100").get_data(as_text=True)
        assert (SECRET_ASK in events) is reads, who
        page = api.get(who, f"/requests/{ref}").get_data(as_text=True)
        assert (SECRET_ASK in page) is reads, who
    with app.app_context(), session_scope() as session:
        mail = session.exec(select(OutboxMessage).where(OutboxMessage.body.contains("A9"))).all()
        assert [m.recipient for m in mail] == ["researcher@example.org"]


def test_through_the_api_with_the_pdf_download(app, flow, signed, tmp_path):
    ref = signed.ref
    api = Api(app)
    assert api.get("researcher", f"/requests/{ref}/attestation.pdf").status_code == 404
    closed = api.act("researcher", ref, "close", reason="Done")
    assert closed.status_code == 200, closed.get_data(as_text=True)
    offered = {a["action"] for a in closed.get_json()["allowed_actions"]}
    assert "attest_destruction" in offered
    body = problem(api.act("researcher", ref, "attest_destruction", **{**ATTEST, "what": ""}), 422)
    assert "what" in str(body)
    assert api.act("researcher", ref, "attest_destruction", **ATTEST).status_code == 200
    pdf = api.get("heron_rep", f"/requests/{ref}/attestation.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert api.get("other_researcher", f"/requests/{ref}/attestation.pdf").status_code == 404
    problem(api.act("coordinator", ref, "acknowledge_destruction", nation="red-cedar",
                    outcome="acknowledged"), 403)  # fmt: skip
    for who, nation in (("cedar_rep", "red-cedar"), ("heron_rep", "blue-heron")):
        done = api.act(who, ref, "acknowledge_destruction", nation=nation, outcome="acknowledged")
        assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["status"] == "closed"
    if shutil.which("pdfsig"):
        path = tmp_path / "attestation.pdf"  # the app's instance folder may not exist
        with open(path, "wb") as file:
            file.write(pdf.data)
        out = subprocess.run(["pdfsig", path], capture_output=True, text=True).stdout
        assert "Signature is Valid" in out or "Signature Validation: Signature is Valid." in out


def test_the_timeline_reads_the_end(app, flow, signed):
    ref = signed.ref
    flow.perform("researcher", ref, c.Close())
    attest(flow, ref)
    with app.app_context(), session_scope() as session:
        kinds = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert kinds[-2:] == ["request.ended", "destruction.attested"]


def test_the_nation_sets_its_days_to_attest_on_its_profile(app, flow):
    from portal.workflow import profiles

    with app.app_context(), session_scope() as session:
        rep = flow.user(session, "cedar_rep")
        cedar = registry.get_nation(session, "red-cedar")
        assert cedar.attestation_due_days == 30
        for wrong in (0, 366, "ten"):
            with pytest.raises(ValidationError) as error:
                profiles.update_profile(session, rep, cedar, attestation_due_days=wrong)
            assert "attestation_due_days" in error.value.errors
        changed = profiles.update_profile(session, rep, cedar, attestation_due_days=45)
        assert changed == {"attestation_due_days": (30, 45)}
        with pytest.raises(Forbidden):
            steward = flow.user(session, "cedar_steward1")
            profiles.update_profile(session, steward, cedar, attestation_due_days=10)


def test_the_request_page_shows_the_end_and_the_nations_answers_to_their_own(app, flow, signed):
    from helpers import sign_in

    ref = signed.ref
    flow.perform("researcher", ref, c.Close())
    attest(flow, ref)
    answer(flow, "cedar_rep", ref, "red-cedar", "more_needed", SECRET_ASK)
    for who, email, reads in (
        ("researcher", "researcher@example.org", True),
        ("heron_rep", "rep.heron@example.org", False),
    ):
        client = app.test_client()
        sign_in(client, email)
        text = client.get(f"/requests/{ref}").get_data(as_text=True)
        assert "Access ended: destruction attestation due" in text, who
        assert ("sentinel A9" in text) is reads, who


def test_overdue_attestations_are_flagged_to_the_nation_and_the_coordinators(app, flow, signed):
    from helpers import sign_in

    ref = signed.ref
    flow.perform("researcher", ref, c.Close())
    with app.app_context(), session_scope() as session:  # ended 40 days ago
        found = attestations.ending_of(session, request_of(session, ref))
        found.ended_at = found.ended_at - timedelta(days=40)
        session.add(found)
    for email, flagged in (
        ("coordinator@example.org", True),
        ("rep.cedar@example.org", True),
        ("s.heron@example.org", True),
        ("other@example.org", False),
        ("researcher@example.org", False),
    ):
        client = app.test_client()
        sign_in(client, email)
        text = client.get("/").get_data(as_text=True)
        assert ("Destruction attestations overdue" in text) is flagged, email
        # Each Nation's people see what is owed to their own Nation only.
        owed_to = {n for n in ("Red Cedar", "Blue Heron") if f"owed to {n}" in text}
        expected = {
            "coordinator@example.org": {"Red Cedar", "Blue Heron"},
            "rep.cedar@example.org": {"Red Cedar"},
            "s.heron@example.org": {"Blue Heron"},
        }
        assert owed_to == expected.get(email, set()), email
