"""Renewal and amendment of an active request (issue 11, part 3): a new revision,
screened, reviewed and decided afresh by every Nation concerned, while access continues
under the agreement in force; a new edition every party signs; the old one superseded,
never edited, still verifying. SQLite and PostgreSQL (TEST_DATABASE_URL)."""

from datetime import date, timedelta

from renewals import (
    OWL,
    SIGNERS,
    add_third_nation,
    amendment,
    editions,
    events,
    reviewed_afresh,
    run,
)

from portal.agreements.models import AgreementStatus
from portal.agreements.verify import verify_pdf
from portal.db import session_scope
from portal.storage import service as storage

CEDAR = ["aggregate_only"]


def test_a_renewal_adds_a_third_nation_which_decides_and_signs_the_new_edition(
    app, flow, make_user
):
    add_third_nation(app, make_user)
    ref = flow.active(cedar_conditions=CEDAR)
    [first] = editions(app, ref)
    assert flow.do("researcher", "renew", ref) == "active"
    assert amendment(app, ref) == ("active", "draft", "renew")
    flow.edit("researcher", ref, datasets=["cedar-health", "heron-schools", "owl-lands"])
    reviewed_afresh(flow, ref, owl=True)
    assert amendment(app, ref) == ("active", "under_review", "renew")
    run(
        flow, ref,
        ("cedar_rep", "decide", "red-cedar", {"conditions": ["no_linkage"]}),
        ("heron_rep", "decide", "blue-heron", {}),
        ("owl_rep", "decide", OWL, {}),
    )  # fmt: skip
    assert amendment(app, ref) == ("active", "awaiting_signatures", "renew")
    old, new = editions(app, ref)
    assert (old.edition, old.status, new.edition, new.status) == (
        1, AgreementStatus.ACTIVE, 2, AgreementStatus.AWAITING_SIGNATURES,
    )  # fmt: skip
    for person, nation in (*SIGNERS, ("owl_rep", OWL)):
        flow.do("rep.owl@example.org" if person == "owl_rep" else person, "sign", ref, nation)
    assert amendment(app, ref) == ("active", None, None)
    old, new = editions(app, ref)
    assert old.status == AgreementStatus.SUPERSEDED and new.status == AgreementStatus.ACTIVE
    assert old.sha256 == first.sha256 and old.version == first.version == 3  # never edited
    assert new.version == 4 and new.revision == 2 and new.term_start == date.today()
    assert new.term_end == date.today() + timedelta(days=365)  # a renewal's fresh term
    kinds = [e.action for e in events(app, ref)]
    assert kinds.count("amendment.opened") == 1 and kinds[-1] == "amendment.in_force"
    with app.app_context(), session_scope() as session:
        for edition, signatures in ((old, 3), (new, 4)):
            report = verify_pdf(session, storage.get(session, edition.sha256))
            assert len(report.signatures) == signatures
            assert report.all_valid and not report.changed_after_signing
            assert report.expected_signatures == signatures
