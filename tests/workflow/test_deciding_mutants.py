"""Each Nation's own steps at their edges (portal/workflow/deciding.py): when a steward
may review and a representative decide, what their input must say, and what each step
records and tells. Each test kills mutants of deciding.py that the rest of the suite let
live: a guard's condition inverted or dropped, a message's words or number lost, a
comment or reason not stripped, a quorum moved on the wrong review, a refusal's
conditions kept, a due's date compared with <= for <, a code taken for a sentence."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from portal.agreements import service as agreements
from portal.agreements.models import AgreementStatus
from portal.audit.models import AuditEvent
from portal.conversations.models import Message
from portal.db import session_scope
from portal.errors import Refused, ValidationError
from portal.notify.models import OutboxMessage
from portal.policy.store import current_policy
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest
from portal.reviews.models import Decision, TrackStatus
from portal.reviews.models import Review as ReviewRow
from portal.reviews.service import tally, tracks_of

from flows import PEOPLE
from helpers import nation_ids_of

CEDAR = "Red Cedar Nation (fictional)"
HERON = "Blue Heron Métis (fictional)"
RESEARCHER = PEOPLE["researcher"][0]
CEDAR_REP = PEOPLE["cedar_rep"][0]
ONE_LINE = "A condition is one line, without '| due:': give its due in dues."


def refusal(flow, who: str, action: str, ref: str, nation=None, **body) -> list[tuple[str, str]]:
    """The rules (and their words) that refuse ``action``; the test fails if it is done."""
    with pytest.raises(Refused) as refused:
        flow.do(who, action, ref, nation, **body)
    return [(rule.rule, rule.message) for rule in refused.value.blocked_by]


def invalid(flow, who: str, action: str, ref: str, nation=None, **body) -> dict[str, str]:
    """What is wrong with the input of ``action``; the test fails if it is accepted."""
    with pytest.raises(ValidationError) as wrong:
        flow.do(who, action, ref, nation, **body)
    return wrong.value.errors


def request_of(session, ref: str) -> AccessRequest:
    return session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()


def tracks(app, ref: str) -> dict[str, str]:
    with app.app_context(), session_scope() as session:
        return {n.slug: t.status.value for t, n in tracks_of(session, request_of(session, ref))}


def events(app, ref: str, action: str) -> list[tuple[dict, list[int]]]:
    """The details of each ``action`` event on the request, and the Nations it concerns."""
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        query = select(AuditEvent).where(
            AuditEvent.request_id == request.id, AuditEvent.action == action
        )
        found = session.exec(query.order_by(AuditEvent.id)).all()
        return [(dict(e.details), nation_ids_of(session, e)) for e in found]


def nation_id(app, slug: str) -> int:
    with app.app_context(), session_scope() as session:
        return get_nation(session, slug).id


def mail(app, email: str) -> list[tuple[str, str]]:
    with app.app_context(), session_scope() as session:
        query = select(OutboxMessage.subject, OutboxMessage.body).where(
            OutboxMessage.recipient == email
        )
        return [tuple(row) for row in session.exec(query.order_by(OutboxMessage.id))]


def subjects(app, email: str) -> list[str]:
    return [subject for subject, _body in mail(app, email)]


def reviews(app, ref: str) -> list[ReviewRow]:
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        query = select(ReviewRow).where(ReviewRow.request_id == request.id)
        return [r.model_copy() for r in session.exec(query.order_by(ReviewRow.id))]


def decisions(app, ref: str) -> list[Decision]:
    with app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        query = select(Decision).where(Decision.request_id == request.id)
        return [d.model_copy() for d in session.exec(query.order_by(Decision.id))]


def cedar_conditions(flow, ref: str, conditions, dues=None) -> list[dict]:
    """Red Cedar approves with ``conditions`` (and ``dues``): the conditions it recorded."""
    flow.do("cedar_rep", "decide", ref, "red-cedar", conditions=conditions, dues=dues or {})
    return decisions(flow.app, ref)[-1].conditions


# --- guard_review: who may review now -------------------------------------------------


def test_a_steward_may_not_review_once_their_nation_has_decided(flow):
    """The Nation's part is closed by its decision, though Blue Heron still deliberates
    (the request is still under review)."""
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    assert flow.status(ref) == "under_review"
    assert refusal(flow, "cedar_steward3", "review", ref, "red-cedar") == [
        ("state", f"{CEDAR} has already decided on this request.")
    ]
    assert tracks(flow.app, ref) == {"red-cedar": "approved", "blue-heron": "decision"}


def test_a_steward_reviews_each_revision_once_and_is_told_which(flow):
    """One review per steward per revision: the second is refused naming the revision,
    and the next revision takes a new review from the same steward."""
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar", recommendation="changes", comment="Why?")
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)
    flow.do("cedar_steward1", "review", ref, "red-cedar")  # revision 2: a review of its own
    assert refusal(flow, "cedar_steward1", "review", ref, "red-cedar") == [
        ("one_review_per_steward", "You have already reviewed revision 2.")
    ]


# --- validate_review: what a review must say -----------------------------------------


def test_a_conflicted_steward_needs_neither_recommendation_nor_comment_and_none_is_kept(flow):
    """Declaring a conflict is the whole review: no recommendation is asked, and one
    given anyway is not recorded (so it can never count as an approval)."""
    ref = flow.to_review()
    flow.do(
        "cedar_steward1", "review", ref, "red-cedar", recommendation=None, conflict_of_interest=True
    )
    flow.do("cedar_steward2", "review", ref, "red-cedar", conflict_of_interest=True)
    rows = reviews(flow.app, ref)
    assert [(r.recommendation, r.conflict_of_interest) for r in rows] == [(None, True)] * 2
    with flow.app.app_context(), session_scope() as session:
        request = request_of(session, ref)
        assert tally(session, request, get_nation(session, "red-cedar")).approvals == 0
    assert tracks(flow.app, ref)["red-cedar"] == "review"
    recorded = events(flow.app, ref, "review.recorded")
    assert [details["recommendation"] for details, _ in recorded] == [None, None]


@pytest.mark.parametrize("recommendation", [None, "", "maybe", "APPROVE"])
def test_a_review_without_a_known_recommendation_is_refused(flow, recommendation):
    ref = flow.to_review()
    errors = invalid(
        flow, "cedar_steward1", "review", ref, "red-cedar",
        recommendation=recommendation, comment="Some words.",
    )  # fmt: skip
    assert errors == {"recommendation": "Choose approve, refuse or changes."}
    assert reviews(flow.app, ref) == []


@pytest.mark.parametrize("recommendation", ["refuse", "changes"])
@pytest.mark.parametrize("comment", ["", "   \n "])
def test_refusing_or_asking_for_changes_needs_a_comment_with_words(flow, recommendation, comment):
    ref = flow.to_review()
    errors = invalid(
        flow, "cedar_steward1", "review", ref, "red-cedar",
        recommendation=recommendation, comment=comment,
    )  # fmt: skip
    assert errors == {"comment": "Explain the recommendation in the comment."}
    assert reviews(flow.app, ref) == []


def test_an_approving_review_needs_no_comment(flow):
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar", recommendation="approve", comment="  ")
    assert [(r.recommendation, r.comment) for r in reviews(flow.app, ref)] == [("approve", "")]


# --- review: what a review records and moves ------------------------------------------


def test_a_review_records_its_steward_revision_stripped_comment_and_criteria(flow):
    ref = flow.to_review()
    criteria = {"benefit": "clear", "harm": "unclear"}
    flow.do(
        "cedar_steward1", "review", ref, "red-cedar",
        recommendation="refuse", comment="  Not with our data.  ", criteria=criteria,
    )  # fmt: skip
    (row,) = reviews(flow.app, ref)
    with flow.app.app_context(), session_scope() as session:
        steward = flow.user(session, "cedar_steward1").id
    assert (row.steward_id, row.revision, row.nation_id) == (
        steward,
        1,
        nation_id(flow.app, "red-cedar"),
    )
    assert (row.recommendation, row.comment, row.criteria) == (
        "refuse",
        "Not with our data.",
        criteria,
    )
    assert row.conflict_of_interest is False
    assert events(flow.app, ref, "review.recorded") == [
        (
            {"recommendation": "refuse", "conflict_of_interest": False, "revision": 1},
            [nation_id(flow.app, "red-cedar")],
        )
    ]


def test_a_request_for_changes_returns_the_request_and_tells_the_researcher(flow):
    ref = flow.to_review()
    flow.do(
        "heron_steward", "review", ref, "blue-heron",
        recommendation="changes", comment="  Which schools?  ",
    )  # fmt: skip
    assert flow.status(ref) == "changes_requested"
    assert events(flow.app, ref, "request.changes_requested") == [
        ({"comment": "Which schools?"}, [nation_id(flow.app, "blue-heron")])
    ]
    told = [body for subject, body in mail(flow.app, RESEARCHER) if "Changes requested" in subject]
    assert len(told) == 1 and "Which schools?" in told[0]
    with flow.app.app_context(), session_scope() as session:
        assert session.exec(select(Message)).all() == []  # not ticked: no message written


def test_only_a_request_for_changes_with_the_box_ticked_writes_to_the_researcher(flow):
    """Ticking "tell the researcher" on an approving review writes nothing; on a
    request for changes it writes the comment, once, in the Nation's thread."""
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar", tell_researcher=True)
    with flow.app.app_context(), session_scope() as session:
        assert session.exec(select(Message)).all() == []
    flow.do(
        "cedar_steward2", "review", ref, "red-cedar",
        recommendation="changes", comment=" Say how parents consent. ", tell_researcher=True,
    )  # fmt: skip
    with flow.app.app_context(), session_scope() as session:
        written = session.exec(select(Message)).all()
        assert [(m.channel, m.as_nation, m.body) for m in written] == [
            ("nation", True, "Say how parents consent.")
        ]


def test_the_review_that_meets_the_quorum_moves_the_track_and_tells_the_representative_once(
    flow,
):
    """Red Cedar's quorum is 2: the first review leaves its track with the stewards, the
    second moves it to the representative (told once), a third changes nothing."""
    ref = flow.to_review()
    to_decide = f"Request {ref} is ready for {CEDAR}'s decision"
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    assert tracks(flow.app, ref) == {"red-cedar": "review", "blue-heron": "review"}
    assert to_decide not in subjects(flow.app, CEDAR_REP)
    flow.do("cedar_steward2", "review", ref, "red-cedar")
    assert tracks(flow.app, ref) == {"red-cedar": "decision", "blue-heron": "review"}
    assert subjects(flow.app, CEDAR_REP).count(to_decide) == 1
    flow.do("cedar_steward3", "review", ref, "red-cedar")
    assert tracks(flow.app, ref) == {"red-cedar": "decision", "blue-heron": "review"}
    assert subjects(flow.app, CEDAR_REP).count(to_decide) == 1


# --- guard_decide: when a representative may decide -----------------------------------


def test_a_nation_approves_a_revision_once(flow):
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    assert refusal(flow, "cedar_rep", "decide", ref, "red-cedar") == [
        ("state", f"{CEDAR} has already decided on this revision.")
    ]
    assert [d.outcome.value for d in decisions(flow.app, ref)] == ["approve"]


def test_a_nation_that_approved_may_still_refuse_while_the_others_decide(flow):
    """Refusal stays open after approval until the Nation's part is closed."""
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    status = flow.do(
        "cedar_rep", "decide", ref, "red-cedar", outcome="refuse", reason="On reflection."
    )
    assert status == "refused"
    assert tracks(flow.app, ref) == {"red-cedar": "refused", "blue-heron": "decision"}


def test_a_nation_may_refuse_during_screening_before_its_track_exists(flow):
    """Refusing before the coordinators screened: the Nation's track is made for it."""
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    assert tracks(flow.app, ref) == {}
    status = flow.do("heron_rep", "decide", ref, "blue-heron", outcome="refuse", reason="No.")
    assert status == "refused"
    assert tracks(flow.app, ref) == {"blue-heron": "refused"}


def test_a_nation_whose_data_an_amendment_drops_has_nothing_to_review_or_decide(flow):
    """Its track ended: its steward may not review the new revision, its
    representative may neither approve nor refuse it (it may still revoke the access
    in force, tests/lifecycle/test_renewal.py)."""
    ref = flow.active()
    flow.do("researcher", "amend", ref)
    flow.edit("researcher", ref, datasets=["cedar-health"])
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)
    assert tracks(flow.app, ref) == {"red-cedar": "review", "blue-heron": "ended"}
    assert refusal(flow, "heron_steward", "review", ref, "blue-heron") == [
        ("state", f"{HERON} has already decided on this request.")
    ]
    assert refusal(flow, "heron_rep", "decide", ref, "blue-heron") == [
        ("state", f"{HERON} has already decided on this revision.")
    ]
    assert refusal(
        flow, "heron_rep", "decide", ref, "blue-heron", outcome="refuse", reason="No."
    ) == [("state", f"{HERON}'s part is ended: a revision dropped its data: nothing to decide.")]


# --- validate_decide and the decision recorded ----------------------------------------


@pytest.mark.parametrize("reason", ["", "  \n "])
def test_a_refusal_needs_a_reason_with_words(flow, reason):
    ref = flow.reviewed()
    errors = invalid(flow, "cedar_rep", "decide", ref, "red-cedar", outcome="refuse", reason=reason)
    assert errors == {"reason": "Give the reason for refusing; the researcher sees it."}
    assert decisions(flow.app, ref) == []


def test_an_approval_records_who_what_and_the_rules_that_judged_it(flow):
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar", reason="  Good work.  ")
    (decision,) = decisions(flow.app, ref)
    with flow.app.app_context(), session_scope() as session:
        rep = flow.user(session, "cedar_rep").id
        rules_version = current_policy(session).rules_version
    assert (decision.representative_id, decision.nation_id, decision.revision) == (
        rep,
        nation_id(flow.app, "red-cedar"),
        1,
    )
    assert (decision.outcome.value, decision.reason) == ("approve", "Good work.")
    assert decision.rules_version == rules_version is not None
    assert events(flow.app, ref, "decision.approved") == [
        ({"reason": "Good work.", "conditions": []}, [nation_id(flow.app, "red-cedar")])
    ]
    assert f"{CEDAR} approved {ref}" in subjects(flow.app, RESEARCHER)
    assert flow.status(ref) == "under_review"  # Blue Heron has not decided


def test_a_refusal_keeps_no_conditions_and_tells_the_researcher_why(flow):
    ref = flow.reviewed()
    flow.do(
        "cedar_rep", "decide", ref, "red-cedar",
        outcome="refuse", reason="  Not with our data.  ", conditions=["aggregate_only"],
    )  # fmt: skip
    (decision,) = decisions(flow.app, ref)
    assert (decision.outcome.value, decision.reason, decision.conditions) == (
        "refuse",
        "Not with our data.",
        [],
    )
    assert events(flow.app, ref, "decision.refused") == [
        ({"reason": "Not with our data.", "conditions": []}, [nation_id(flow.app, "red-cedar")])
    ]
    told = [
        body
        for subject, body in mail(flow.app, RESEARCHER)
        if subject == f"{ref} was refused by {CEDAR}"
    ]
    assert len(told) == 1 and "Not with our data." in told[0]
    assert flow.status(ref) == "refused"


def test_the_last_approval_issues_the_agreement_and_names_it_in_its_event(flow):
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    assert events(flow.app, ref, "decision.approved")[0][0].keys() == {"reason", "conditions"}
    flow.do("heron_rep", "decide", ref, "blue-heron")
    with flow.app.app_context(), session_scope() as session:
        issued = agreements.to_sign(session, request_of(session, ref))
        sha256 = issued.sha256
    last, heron = events(flow.app, ref, "decision.approved")[-1]
    assert last == {"reason": "", "conditions": [], "agreement_sha256": sha256}
    assert heron == [nation_id(flow.app, "blue-heron")]
    assert flow.status(ref) == "awaiting_signatures"
    assert f"Every Nation approved {ref}: the agreement is next" in subjects(flow.app, RESEARCHER)
    assert f"Blue Heron Métis (fictional) approved {ref}" not in subjects(flow.app, RESEARCHER)
    waits = f"The agreement for {ref} waits for {CEDAR}'s signature"
    assert waits in subjects(flow.app, CEDAR_REP)


def test_a_refusal_after_every_approval_voids_the_agreement(flow):
    ref = flow.approved()
    flow.do("cedar_rep", "decide", ref, "red-cedar", outcome="refuse", reason="Changed our mind.")
    with flow.app.app_context(), session_scope() as session:
        found = agreements.editions_of(session, request_of(session, ref))
        assert [a.status for a in found] == [AgreementStatus.VOID]
    assert flow.status(ref) == "refused"


# --- _conditions: what a condition may be ----------------------------------------------


@pytest.mark.parametrize(
    ("item", "error"),
    [
        ("", "Each condition is a code or a sentence."),
        ("   ", "Each condition is a code or a sentence."),
        (7, "Each condition is a code or a sentence."),
        ("Results shared | due: at_end", ONE_LINE),
        ("Two\nlines", ONE_LINE),
        ("Two\rlines", ONE_LINE),
        ("no_such_code", "no_such_code is not a standard condition of the rules in force."),
    ],
)  # fmt: skip
def test_a_condition_that_is_neither_a_known_code_nor_one_line_is_refused(flow, item, error):
    ref = flow.reviewed()
    errors = invalid(flow, "cedar_rep", "decide", ref, "red-cedar", conditions=[item])
    assert errors == {"conditions": error}


def test_codes_of_the_catalogue_are_kept_by_code_and_other_words_as_the_nations_own(flow):
    """A code is completed with the Nation's values; a plain word, or words with an
    underscore that are no code, are the Nation's own sentence, stripped."""
    ref = flow.reviewed()
    kept = cedar_conditions(
        flow,
        ref,
        [" aggregate_only ", "consent", "  Share_results with us.  ", "data_stays_in_location"],
    )
    assert [c["code"] for c in kept] == [
        "aggregate_only",
        "custom",
        "custom",
        "data_stays_in_location",
    ]
    assert [c["text"] for c in kept][1:3] == ["consent", "Share_results with us."]
    assert kept[0]["text"].startswith("Only aggregate results are released; cells below ")
    assert "{" not in kept[0]["text"] and "{" not in kept[3]["text"]
    assert "(CA-ON)" in kept[3]["text"]  # the request's storage location
    assert all("due" not in c for c in kept)


# --- _with_dues: each condition's due --------------------------------------------------


def test_dues_are_given_by_the_condition_and_kept_in_one_spelling(flow):
    ref = flow.reviewed()
    today = date.today().isoformat()
    kept = cedar_conditions(
        flow, ref, [" aggregate_only ", "Yearly report", "no_linkage"],
        {" aggregate_only ": "Every   6   months", "Yearly report": today},
    )  # fmt: skip
    assert [c.get("due") for c in kept] == ["Every 6 months", today, None]


def test_a_due_date_that_has_passed_is_refused_and_today_is_not_passed(flow):
    ref = flow.reviewed()
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    errors = invalid(
        flow, "cedar_rep", "decide", ref, "red-cedar",
        conditions=["aggregate_only"], dues={"aggregate_only": yesterday},
    )  # fmt: skip
    assert errors == {"dues": f"aggregate_only: The date {yesterday} has passed: give a later one."}


@pytest.mark.parametrize(
    ("dues", "error"),
    [
        (["at_end"], "Give each condition's due by the condition."),
        ("at_end", "Give each condition's due by the condition."),
        ({"no_linkage": "at_end"}, "'no_linkage' is not one of the conditions given."),
        ({7: "at_end"}, "7 is not one of the conditions given."),
        ({"aggregate_only": "every 0 months"}, "aggregate_only: A period is 1 to 120 months."),
    ],
)
def test_dues_not_keyed_by_a_given_condition_or_not_a_due_are_refused(flow, dues, error):
    ref = flow.reviewed()
    errors = invalid(
        flow, "cedar_rep", "decide", ref, "red-cedar", conditions=["aggregate_only"], dues=dues
    )
    assert errors == {"dues": error}
    assert decisions(flow.app, ref) == []


def test_a_due_that_names_nothing_is_refused_with_what_is_allowed(flow):
    ref = flow.reviewed()
    errors = invalid(
        flow, "cedar_rep", "decide", ref, "red-cedar",
        conditions=["aggregate_only"], dues={"aggregate_only": "soonish"},
    )  # fmt: skip
    assert errors["dues"].startswith("aggregate_only: 'soonish' is not a due date")


def test_with_no_dues_given_an_approval_needs_none(flow):
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar", conditions=["aggregate_only"], dues=None)
    assert [c.get("due") for c in decisions(flow.app, ref)[-1].conditions] == [None]
    assert TrackStatus(tracks(flow.app, ref)["red-cedar"]) is TrackStatus.APPROVED
