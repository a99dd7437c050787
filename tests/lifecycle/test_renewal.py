"""Renewal and amendment of an active request (issue 11, part 3): a new revision,
screened, reviewed and decided afresh by every Nation concerned, while access continues
under the agreement in force; a new edition every party signs; the old one superseded,
never edited, still verifying. SQLite and PostgreSQL (TEST_DATABASE_URL)."""

import os
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import select

from portal.agreements.models import AgreementStatus
from portal.agreements.verify import verify_pdf
from portal.db import pinned_clock, session_scope, utcnow
from portal.errors import Forbidden
from portal.jobs.custodians import deliver_custodian_notices
from portal.lifecycle.models import Obligation
from portal.storage import service as storage
from portal.workflow import Expire, perform

from receivers import Receiver
from renewals import (
    OWL,
    SIGNERS,
    add_third_nation,
    amendment,
    editions,
    events,
    mail_to,
    mail_with_bodies,
    request_of,
    reviewed_afresh,
    run,
    who,
)

CEDAR = ["aggregate_only"]
NEW_CEDAR = ["no_linkage"]
ALL_THREE = ["cedar-health", "heron-schools", "owl-lands"]


@pytest.fixture
def receiver(app):
    app.config["CUSTODIAN_WEBHOOKS_ALLOW_LOCAL_HTTP"] = True
    app.config["CUSTODIAN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"] = True  # the receiver's 127.0.0.1
    with Receiver() as running:
        yield running


def register(runner, receiver, slug: str) -> None:
    result = runner.invoke(args=["datasets", "webhook", slug, "--url", receiver.url])
    assert result.exit_code == 0, result.output
    receiver.secret = re.search(r"(whsec_\S+)", result.output).group(1)


def sign_all(flow, ref: str, *extra) -> None:
    for person, nation in (*SIGNERS, *extra):
        flow.do(who(person), "sign", ref, nation)


def obligations(app, ref: str) -> list[tuple[str, str]]:
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        query = select(Obligation).where(Obligation.request_id == request.id)
        return [(o.source, o.state.value) for o in session.exec(query.order_by(Obligation.id))]


def test_a_renewal_adds_a_third_nation_which_decides_and_signs_the_new_edition(
    app, flow, make_user, runner, receiver, tmp_path
):
    add_third_nation(app, make_user)
    register(runner, receiver, "cedar-health")
    ref = flow.active(cedar_conditions=CEDAR)
    [first] = editions(app, ref)
    assert flow.do("researcher", "renew", ref) == "active"
    assert amendment(app, ref) == ("active", "draft", "renew")
    flow.edit("researcher", ref, datasets=ALL_THREE)
    reviewed_afresh(flow, ref, owl=True)
    assert amendment(app, ref) == ("active", "under_review", "renew")
    run(
        flow, ref,
        ("cedar_rep", "decide", "red-cedar", {"conditions": NEW_CEDAR}),
        ("heron_rep", "decide", "blue-heron", {}),
        ("owl_rep", "decide", OWL, {}),
    )  # fmt: skip
    assert amendment(app, ref) == ("active", "awaiting_signatures", "renew")
    old, new = editions(app, ref)
    assert (old.status, new.status) == (AgreementStatus.ACTIVE, AgreementStatus.AWAITING_SIGNATURES)
    owl = signed_in_client(app, "rep.owl@example.org")
    page = owl.get(f"/requests/{ref}").text
    assert "Data-use agreement, edition 2" in page and "Sign for Grey Owl" in page
    cedar = signed_in_client(app, "rep.cedar@example.org").get(f"/requests/{ref}").text
    assert "New edition 2: awaiting signatures" in cedar and "Sign edition 2 for Red" in cedar
    assert owl.get(f"/requests/{ref}/agreement.pdf?edition=2").status_code == 200
    assert owl.get(f"/requests/{ref}/agreement.pdf").status_code == 403  # no party to edition 1
    sign_all(flow, ref, ("owl_rep", OWL))
    page = owl.get(f"/requests/{ref}").text
    assert "Data-use agreement, edition 2" in page and "Superseded" in page

    assert amendment(app, ref) == ("active", None, None)
    old, new = editions(app, ref)
    assert (old.edition, new.edition) == (1, 2)
    assert old.status == AgreementStatus.SUPERSEDED and new.status == AgreementStatus.ACTIVE
    assert old.sha256 == first.sha256 and old.version == first.version == 3  # never edited
    assert new.version == 4 and new.revision == 2 and new.term_start == date.today()
    assert new.term_end == date.today() + timedelta(days=365)  # a renewal's fresh term
    # The new decision's obligation supersedes what the old edition still asked.
    assert obligations(app, ref) == [("aggregate_only", "superseded"), ("no_linkage", "open")]
    kinds = [e.action for e in events(app, ref)]
    assert kinds.count("amendment.opened") == 1 and kinds[-1] == "amendment.in_force"
    assert events(app, ref)[-1].details["superseded"] == 1
    with app.app_context(), session_scope() as session:
        for edition, signatures in ((old, 3), (new, 4)):
            report = verify_pdf(session, storage.get(session, edition.sha256))
            assert report.all_valid and not report.changed_after_signing
            assert len(report.signatures) == report.expected_signatures == signatures
            assert report.agreement.edition == edition.edition
        (tmp_path / "edition-2.pdf").write_bytes(storage.get(session, new.sha256))
    report = pdfsig(tmp_path / "edition-2.pdf")
    assert report.count("Signature Validation: Signature is Valid.") == 4, report
    assert "Signature Field Name: Nation-grey-owl" in report

    with app.app_context(), session_scope() as session:
        assert deliver_custodian_notices(session, utcnow())["delivered"] == 2
    assert [r.payload["type"] for r in receiver.received] == ["access.started", "access.changed"]
    assert all(r.verified for r in receiver.received)
    changed = receiver.received[-1].payload["data"]
    assert changed["edition"] == 2 and changed["term"]["end"] == new.term_end.isoformat()
    conditions = {n["slug"]: n["conditions"] for n in changed["nations"]}
    assert conditions == {"red-cedar": [{"code": "no_linkage"}], "blue-heron": [], OWL: []}


def test_an_amendment_that_drops_a_nation_lets_it_leave(app, flow, runner, receiver):
    register(runner, receiver, "heron-schools")
    ref = flow.active()
    term_end = editions(app, ref)[0].term_end
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, datasets=["cedar-health"])
    reviewed_afresh(flow, ref, heron=False)
    told = mail_to(app, "rep.heron@example.org")
    assert any("no longer uses Blue Heron" in subject for subject in told)
    kinds = [e.action for e in events(app, ref)]
    assert "track.ended" in kinds
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    heron = signed_in_client(app, "rep.heron@example.org")
    # Heron still reads the edition in force (it signed it), not the new one.
    assert heron.get(f"/requests/{ref}/agreement.pdf").status_code == 200
    assert heron.get(f"/requests/{ref}/agreement.pdf?edition=2").status_code == 403
    with pytest.raises(Forbidden):  # no party to the new edition
        flow.do("heron_rep", "sign", ref)
    for person, nation in (("researcher", None), ("cedar_rep", "red-cedar")):
        flow.do(person, "sign", ref, nation)
    old, new = editions(app, ref)
    assert old.status == AgreementStatus.SUPERSEDED
    assert new.status == AgreementStatus.ACTIVE and new.term_end == term_end  # amend: same end
    assert heron.get(f"/requests/{ref}/agreement.pdf").status_code == 403
    assert heron.get(f"/requests/{ref}/agreement.pdf?edition=1").status_code == 200
    with app.app_context(), session_scope() as session:
        deliver_custodian_notices(session, utcnow())
    assert [r.payload["type"] for r in receiver.received] == ["access.started", "access.ended"]


def pdfsig(path) -> str:
    """poppler's report on the file's signatures (required in CI, skipped elsewhere)."""
    if not shutil.which("pdfsig"):
        if os.environ.get("CI"):
            pytest.fail("pdfsig (poppler-utils) must be installed in CI")
        pytest.skip("pdfsig (poppler-utils) is not installed")
    done = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True)
    return done.stdout + done.stderr


def signed_in_client(app, email):
    from helpers import sign_in

    client = app.test_client()
    sign_in(client, email)
    return client


def test_a_refusal_ends_the_amendment_only(app, flow):
    ref = flow.active(cedar_conditions=CEDAR)
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, datasets=["cedar-health"], title="A narrower study (fictional)")
    reviewed_afresh(flow, ref, heron=False)
    flow.do("cedar_rep", "decide", ref, "red-cedar", outcome="refuse", reason="Not this way.")
    assert amendment(app, ref) == ("active", None, None)
    [only] = editions(app, ref)
    assert only.status == AgreementStatus.ACTIVE
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        assert request.title == "Wellbeing of children in care (fictional)"  # as in force
        from portal.requests.service import datasets_of
        from portal.reviews.service import tracks_of

        assert [d.slug for d in datasets_of(session, request)] == ["cedar-health", "heron-schools"]
        assert {n.slug: t.status.value for t, n in tracks_of(session, request)} == {
            "red-cedar": "approved", "blue-heron": "approved",
        }  # fmt: skip
    ended = events(app, ref)[-1]
    assert ended.action == "amendment.ended" and ended.details["outcome"] == "refused"
    subject = f"{ref}: the amendment ended without effect"
    to_researcher = mail_with_bodies(app, "researcher@example.org")[-1]
    assert to_researcher[0] == subject and "Not this way." in to_researcher[1]
    to_heron = mail_with_bodies(app, "rep.heron@example.org")[-1]  # it took part: told
    assert to_heron[0] == subject and "Not this way." not in to_heron[1]  # invariant 9
    # The request is as it was: it can be amended again, and revoked.
    assert flow.do("researcher", "amend", ref) == "active"
    assert flow.do("heron_rep", "revoke", ref, "blue-heron") == "revoked"
    assert amendment(app, ref) == ("revoked", None, None)


def test_expiry_during_an_amendment_voids_the_pending_edition(app, flow):
    ref = flow.active()
    flow.do("researcher", "renew", ref)
    reviewed_afresh(flow, ref)
    run(
        flow,
        ref,
        ("cedar_rep", "decide", "red-cedar", {}),
        ("heron_rep", "decide", "blue-heron", {}),
    )
    old, pending = editions(app, ref)
    with app.app_context(), session_scope() as session:  # nothing renews by itself
        perform(session, None, ref, Expire(today=old.term_end))
    old, pending = editions(app, ref)
    assert old.status == AgreementStatus.EXPIRED and pending.status == AgreementStatus.VOID
    assert amendment(app, ref) == ("expired", None, None)
    assert events(app, ref)[-2].details == {"what": "renew", "outcome": "expired"}


def test_the_renewed_term_has_its_own_expiry_notices_and_expiry(app, flow):
    from portal.workflow.expiry_notices import send_expiry_notices
    from portal.workflow.signing import due_for_expiry

    ref = flow.active()
    [old] = editions(app, ref)
    with app.app_context(), session_scope() as session:
        assert send_expiry_notices(session, old.term_end - timedelta(days=7)) == 1
    flow.do("researcher", "renew", ref)
    reviewed_afresh(flow, ref)
    later = datetime.combine(old.term_end - timedelta(days=30), time(12), tzinfo=UTC)
    with pinned_clock(later):  # renewed a month before the term ends: issued then
        run(
            flow, ref,
            ("cedar_rep", "decide", "red-cedar", {}),
            ("heron_rep", "decide", "blue-heron", {}),
        )  # fmt: skip
    sign_all(flow, ref)
    old, new = editions(app, ref)
    assert new.term_start == later.date() and new.term_end == later.date() + timedelta(days=365)
    with app.app_context(), session_scope() as session:
        assert due_for_expiry(session, old.term_end) == []  # the superseded term is over
        assert due_for_expiry(session, new.term_end) == [ref]
        assert send_expiry_notices(session, old.term_end - timedelta(days=7)) == 0
        assert send_expiry_notices(session, new.term_end - timedelta(days=7)) == 1


def test_a_nation_whose_data_the_draft_drops_still_revokes_at_once(app, flow):
    from portal.workflow.offers import available

    ref = flow.active()
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, datasets=["cedar-health"])  # the draft drops Heron
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        offered = available(session, flow.user(session, "heron_rep"), request)
        assert [(o.action, o.nation.slug) for o in offered] == [("revoke", "blue-heron")]
    assert flow.do("heron_rep", "revoke", ref, "blue-heron") == "revoked"
    assert amendment(app, ref) == ("revoked", None, None)
    ended = [e for e in events(app, ref) if e.action == "amendment.ended"]
    assert [e.details for e in ended] == [{"what": "amend", "outcome": "revoked"}]
    [only] = editions(app, ref)
    assert only.status == AgreementStatus.REVOKED
    with app.app_context(), session_scope() as session:
        from portal.requests.service import datasets_of

        kept = [d.slug for d in datasets_of(session, request_of(session, ref))]
        assert kept == ["cedar-health", "heron-schools"]  # the datasets access ended on


def test_a_nation_an_amendment_dropped_no_longer_reads_the_new_outputs(app, flow):
    """Found in a probe: once an amendment dropping its data took effect, Heron's people
    no longer read the agreement, but still downloaded the outputs submitted after."""
    from portal.workflow import commands as c

    ref = flow.active()
    earlier = flow.perform("researcher", ref, c.SubmitOutput("Before", "V", "a.csv", CSV_OUT))
    assert earlier == "active"
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, datasets=["cedar-health"])
    reviewed_afresh(flow, ref, heron=False)
    # While the amendment is decided, Heron is still a party to the edition in force.
    flow.perform("researcher", ref, c.SubmitOutput("During", "V", "c.csv", CSV_OUT))
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    for person, nation in (("researcher", None), ("cedar_rep", "red-cedar")):
        flow.do(person, "sign", ref, nation)
    flow.perform("researcher", ref, c.SubmitOutput("After", "V", "b.csv", CSV_OUT))
    first, during, after = _output_ids(app, ref)
    heron = signed_in_client(app, "s.heron@example.org")
    cedar = signed_in_client(app, "s1.cedar@example.org")
    assert cedar.get(f"/requests/{ref}/outputs/{after}/file").status_code == 200
    assert heron.get(f"/requests/{ref}/outputs/{after}/file").status_code == 404
    # Those submitted while it was a party, from the time its data was used, it reads.
    for earlier in (first, during):
        assert heron.get(f"/requests/{ref}/outputs/{earlier}/file").status_code == 200


CSV_OUT = b"Region,Count\nNorth,40\nSouth,55\n"


def _output_ids(app, ref: str) -> list[int]:
    from portal.lifecycle.outputs.models import ResearchOutput

    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        query = select(ResearchOutput.id).where(ResearchOutput.request_id == request.id)
        return list(session.exec(query.order_by(ResearchOutput.id)))


def test_no_nation_joins_a_dataset_the_edition_in_force_uses_while_an_amendment_drops_it(
    app, flow, make_user
):
    """Found in a review: the amendment's revision dropped heron-schools, so the dataset
    looked unused while access to it went on; Grey Owl was added to it, the amendment
    was withdrawn, and the request went on with Owl's data, Owl never asked."""
    from portal.errors import ValidationError
    from portal.registry import service as registry

    add_third_nation(app, make_user)
    ref = flow.active()
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, datasets=["cedar-health"])
    flow.do("researcher", "submit", ref)
    with app.app_context(), session_scope() as session:
        dataset = registry.get_dataset(session, "heron-schools")
        with pytest.raises(ValidationError) as refused:
            registry.update_dataset(
                session, dataset, title=dataset.title, custodian=dataset.custodian,
                description="", nation_slugs=["blue-heron", OWL],
            )  # fmt: skip
        said = refused.value.errors["nations"]
        assert "1 request in progress or in force uses this dataset" in said
        assert ref not in said  # a count: whoever edits the dataset may not see it
