"""The governance rules at their edges, with exact numbers: tests that fail when a
count, a comparison, a filter or a status in the rules is changed (each one kills a
mutant that the rest of the suite let live: >= for >, an inverted approval count,
conflicted, representatives' or requesting-side reviews counted, a refusal recorded
as an approval, a track ended for a Nation that is still in the request)."""

import pytest
from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.errors import Refused, ValidationError
from portal.notify.models import OutboxMessage
from portal.paths import resource_dir
from portal.policy.files import read_directory
from portal.policy.store import replace_file_rules
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest, RequestStatus
from portal.reviews.models import Decision, NationTrack, Recommendation, TrackStatus
from portal.reviews.service import ReviewTally, tally
from portal.workflow.offers import who_may

from flows import COMPLETE, PEOPLE

CEDAR = "Red Cedar Nation (fictional)"


def rules(decision) -> dict[str, str]:
    return {rule.rule: rule.message for rule in decision.blocked_by}


def set_profile(app, slug: str, **values) -> None:
    with app.app_context(), session_scope() as session:
        nation = get_nation(session, slug)
        for key, value in values.items():
            setattr(nation, key, value)


def tally_of(app, request_id: int, slug: str = "red-cedar") -> ReviewTally:
    with app.app_context(), session_scope() as session:
        return tally(session, session.get(AccessRequest, request_id), get_nation(session, slug))


@pytest.fixture
def cedar(nations, make_user):
    """Red Cedar (quorum 2, min_approvals 1): its representative and three stewards."""
    return {
        "rep": make_user("rep@example.org", ("representative", "red-cedar")),
        "s1": make_user("s1@example.org", ("steward", "red-cedar")),
        "s2": make_user("s2@example.org", ("steward", "red-cedar")),
        "s3": make_user("s3@example.org", ("steward", "red-cedar")),
    }


# --- quorum_met and min_approvals_met ---------------------------------------------


def test_quorum_one_short_names_both_numbers_and_exactly_met_holds(
    app, cedar, ask, make_request, add_review
):
    request_id = make_request(["cedar-health"])
    add_review(request_id, "red-cedar", cedar["s1"])
    blocked = rules(ask(cedar["rep"], "approve", "red-cedar", request_id))
    assert blocked == {
        "quorum_met": f"{CEDAR} requires 2 steward reviews of this revision; 1 recorded."
    }
    add_review(request_id, "red-cedar", cedar["s2"])
    assert ask(cedar["rep"], "approve", "red-cedar", request_id).allowed, "2 of 2: met"


def test_quorum_of_one_is_met_by_one_review(app, cedar, ask, make_request, add_review):
    set_profile(app, "red-cedar", review_quorum=1)
    request_id = make_request(["cedar-health"])
    assert rules(ask(cedar["rep"], "approve", "red-cedar", request_id))["quorum_met"] == (
        f"{CEDAR} requires 1 steward review of this revision; 0 recorded."
    )
    add_review(request_id, "red-cedar", cedar["s1"])
    assert ask(cedar["rep"], "approve", "red-cedar", request_id).allowed


def test_min_approvals_exactly_met_holds_and_one_short_names_the_numbers(
    app, cedar, ask, make_request, add_review
):
    set_profile(app, "red-cedar", min_approvals=2)
    met = make_request(["cedar-health"])
    add_review(met, "red-cedar", cedar["s1"])
    add_review(met, "red-cedar", cedar["s2"])
    assert ask(cedar["rep"], "approve", "red-cedar", met).allowed, "2 approvals of 2 needed"

    short = make_request(["cedar-health"])
    add_review(short, "red-cedar", cedar["s1"])
    add_review(short, "red-cedar", cedar["s2"], recommendation=Recommendation.REFUSE)
    assert rules(ask(cedar["rep"], "approve", "red-cedar", short)) == {
        "min_approvals_met": (
            f"{CEDAR} requires 2 steward recommendations to approve this revision; 1 recorded."
        )
    }, "a refusal recommendation is a counted review but not an approval"


def test_only_recommendations_to_approve_are_approvals(app, cedar, ask, make_request, add_review):
    request_id = make_request(["cedar-health"])
    add_review(request_id, "red-cedar", cedar["s1"], recommendation=Recommendation.REFUSE)
    add_review(request_id, "red-cedar", cedar["s2"], recommendation=Recommendation.CHANGES)
    assert rules(ask(cedar["rep"], "approve", "red-cedar", request_id)) == {
        "min_approvals_met": (
            f"{CEDAR} requires 1 steward recommendation to approve this revision; 0 recorded."
        )
    }
    counted = tally_of(app, request_id)
    assert (counted.counted, counted.approvals, counted.conflicts) == (2, 0, 0)


# --- which reviews count ------------------------------------------------------------


def test_a_conflict_is_neither_counted_nor_reachable(app, cedar, ask, make_request, add_review):
    request_id = make_request(["cedar-health"])
    add_review(request_id, "red-cedar", cedar["s1"], conflict=True)
    add_review(request_id, "red-cedar", cedar["s2"])
    assert rules(ask(cedar["rep"], "approve", "red-cedar", request_id))["quorum_met"] == (
        f"{CEDAR} requires 2 steward reviews of this revision; 1 recorded."
    )
    assert tally_of(app, request_id) == ReviewTally(
        counted=1, approvals=1, conflicts=1, quorum=2, min_approvals=1, reachable=2
    ), "s2 counted, s3 may still review; s1's conflict closes their place"
    assert not tally_of(app, request_id).stalled, "reachable exactly the quorum: not stalled"


def test_the_quorum_stalls_when_too_few_eligible_stewards_are_left(
    app, nations, make_user, make_request, add_review
):
    make_user("rep@example.org", ("representative", "red-cedar"))
    s1 = make_user("s1@example.org", ("steward", "red-cedar"))
    s2 = make_user("s2@example.org", ("steward", "red-cedar"))
    request_id = make_request(["cedar-health"])
    assert tally_of(app, request_id).reachable == 2
    add_review(request_id, "red-cedar", s1, conflict=True)
    counted = tally_of(app, request_id)
    assert (counted.reachable, counted.stalled, counted.reviews_missing) == (1, True, 2)
    add_review(request_id, "red-cedar", s2)
    counted = tally_of(app, request_id)
    assert (counted.counted, counted.reachable, counted.stalled, counted.conflicts) == (
        1, 1, True, 1,
    )  # fmt: skip


def test_reviews_missing_never_goes_below_zero(app, cedar, make_request, add_review):
    request_id = make_request(["cedar-health"])
    for steward in ("s1", "s2", "s3"):
        add_review(request_id, "red-cedar", cedar[steward])
    counted = tally_of(app, request_id)
    assert (counted.counted, counted.reviews_missing, counted.quorum_met) == (3, 0, True)


def test_a_representatives_own_review_never_makes_the_quorum(
    app, nations, make_user, ask, make_request, add_review
):
    rep = make_user("rep@example.org", ("representative", "red-cedar"))
    both = make_user("both@example.org", ("steward", "red-cedar"), ("representative", "red-cedar"))
    s1 = make_user("s1@example.org", ("steward", "red-cedar"))
    request_id = make_request(["cedar-health"])
    add_review(request_id, "red-cedar", both)
    add_review(request_id, "red-cedar", s1)
    assert rules(ask(rep, "approve", "red-cedar", request_id))["quorum_met"] == (
        f"{CEDAR} requires 2 steward reviews of this revision; 1 recorded."
    )
    counted = tally_of(app, request_id)
    assert (counted.counted, counted.reachable, counted.stalled) == (1, 1, True)


def test_a_requesting_side_stewards_review_does_not_count(
    app, nations, make_user, ask, make_request, add_review
):
    rep = make_user("rep@example.org", ("representative", "red-cedar"))
    on_team = make_user("team@example.org", ("steward", "red-cedar"))
    s1 = make_user("s1@example.org", ("steward", "red-cedar"))
    team = [{"name": "T", "email": "team@example.org", "role": "analyst"}]
    request_id = make_request(["cedar-health"], team=team)
    add_review(request_id, "red-cedar", on_team)  # slipped in: the workflow forbids it
    add_review(request_id, "red-cedar", s1)
    assert rules(ask(rep, "approve", "red-cedar", request_id))["quorum_met"] == (
        f"{CEDAR} requires 2 steward reviews of this revision; 1 recorded."
    )
    assert tally_of(app, request_id).counted == 1


def test_a_review_by_someone_not_a_steward_of_the_nation_does_not_count(
    app, cedar, make_user, ask, make_request, add_review
):
    heron = make_user("heron@example.org", ("steward", "blue-heron"))
    request_id = make_request(["cedar-health"])
    add_review(request_id, "red-cedar", heron)
    add_review(request_id, "red-cedar", cedar["s1"])
    counted = tally_of(app, request_id)
    assert (counted.counted, counted.approvals, counted.reachable) == (1, 1, 3)
    assert not ask(cedar["rep"], "approve", "red-cedar", request_id).allowed


def test_only_reviews_of_the_current_revision_count(app, cedar, ask, make_request, add_review):
    request_id = make_request(["cedar-health"], revision=2)
    add_review(request_id, "red-cedar", cedar["s1"], revision=1)
    add_review(request_id, "red-cedar", cedar["s2"], revision=1)
    add_review(request_id, "red-cedar", cedar["s3"], revision=2)
    assert rules(ask(cedar["rep"], "approve", "red-cedar", request_id))["quorum_met"] == (
        f"{CEDAR} requires 2 steward reviews of this revision; 1 recorded."
    )


# --- rows that bypassed `portal policy check` ---------------------------------------


def load_rows(app, add=(), drop=()) -> None:
    """The policies/ rows, less ``drop`` and plus ``add``, put in through the store."""
    lines, _ = read_directory(resource_dir("policies"))
    rows = [(ln.source, ln.ptype, list(ln.values)) for ln in lines if ln.text not in drop]
    rows += [("conditions.csv", "p2", text.split(", ")[1:]) for text in add]
    with app.app_context(), session_scope() as session:
        replace_file_rules(session, rows)


def test_refusal_ignores_a_condition_row_attached_to_it(app, cedar, ask, make_request):
    load_rows(app, add=["p2, *, refuse, quorum_met", "p2, *, refuse, screened"])
    request_id = make_request(["cedar-health"], status=RequestStatus.SCREENING)
    assert ask(cedar["rep"], "refuse", "red-cedar", request_id).allowed


def test_approval_needs_the_required_conditions_even_without_their_rows(
    app, cedar, ask, make_request
):
    load_rows(app, drop=["p2, *, approve, quorum_met", "p2, *, approve, term_within_limit"])
    request_id = make_request(["cedar-health"], retention_days=731)
    assert set(rules(ask(cedar["rep"], "approve", "red-cedar", request_id))) == {
        "quorum_met",
        "min_approvals_met",
        "term_within_limit",
    }


def test_an_unknown_condition_row_blocks_rather_than_allows(
    app, cedar, ask, make_request, add_review
):
    load_rows(app, add=["p2, *, approve, no_such_rule"])
    request_id = make_request(["cedar-health"])
    add_review(request_id, "red-cedar", cedar["s1"])
    add_review(request_id, "red-cedar", cedar["s2"])
    assert set(rules(ask(cedar["rep"], "approve", "red-cedar", request_id))) == {"no_such_rule"}


# --- the workflow's decisions -------------------------------------------------------


def test_a_refusal_is_recorded_as_a_refusal_with_its_reason(app, flow):
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar", outcome="refuse", reason=" Not with ours. ")
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        cedar = get_nation(session, "red-cedar")
        track = session.exec(
            select(NationTrack).where(
                NationTrack.request_id == request.id, NationTrack.nation_id == cedar.id
            )
        ).one()
        decision = session.exec(select(Decision).where(Decision.request_id == request.id)).one()
        events = session.exec(
            select(AuditEvent.action).where(AuditEvent.request_id == request.id)
        ).all()
        assert track.status == TrackStatus.REFUSED
        assert (decision.outcome.value, decision.reason) == ("refuse", "Not with ours.")
    assert "decision.refused" in events and "decision.approved" not in events


def test_a_refusal_needs_a_reason(flow):
    ref = flow.reviewed()
    with pytest.raises(ValidationError) as excinfo:
        flow.do("cedar_rep", "decide", ref, "red-cedar", outcome="refuse", reason="  ")
    assert set(excinfo.value.errors) == {"reason"}


def test_approving_twice_is_refused(flow):
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    with pytest.raises(Refused) as excinfo:
        flow.do("cedar_rep", "decide", ref, "red-cedar")
    assert [rule.rule for rule in excinfo.value.blocked_by] == ["state"]


def test_the_decision_waits_for_the_quorum_not_for_the_first_review(flow):
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    with flow.app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        cedar = get_nation(session, "red-cedar")
        track = session.exec(
            select(NationTrack).where(
                NationTrack.request_id == request.id, NationTrack.nation_id == cedar.id
            )
        ).one()
        assert track.status == TrackStatus.REVIEW
        assert [u.email for u in who_may(session, request, "decide", cedar)] == [
            PEOPLE["cedar_rep"][0]
        ]
        reviewers = who_may(session, request, "review", cedar)
        assert sorted(u.email for u in reviewers) == sorted(
            PEOPLE[who][0] for who in ("cedar_steward2", "cedar_steward3")
        ), "a steward who reviewed is not asked again"
    assert track_states(flow.app, ref)["red-cedar"] == "review"
    assert not mailed_to_decide(flow.app, ref)
    flow.do("cedar_steward2", "review", ref, "red-cedar")
    assert track_states(flow.app, ref)["red-cedar"] == "decision", "quorum exactly met"
    assert mailed_to_decide(flow.app, ref) == [PEOPLE["cedar_rep"][0]]


def mailed_to_decide(app, ref: str) -> list[str]:
    with app.app_context(), session_scope() as session:
        return [
            m.recipient
            for m in session.exec(select(OutboxMessage))
            if m.subject.startswith(f"Request {ref} is ready for")
        ]


def test_the_researcher_signs_for_themself(app, nations, make_user, ask, make_request):
    request_id = make_request(["cedar-health"], status=RequestStatus.AWAITING_SIGNATURES)
    with app.app_context(), session_scope() as session:
        researcher_id = session.get(AccessRequest, request_id).researcher_id
    assert ask(researcher_id, "sign", request_id=request_id).allowed


# --- tracks end only for the Nations a revision drops --------------------------------


def track_states(app, ref: str) -> dict[str, str]:
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        slugs = {get_nation(session, s).id: s for s in ("red-cedar", "blue-heron")}
        rows = session.exec(select(NationTrack).where(NationTrack.request_id == request.id))
        return {slugs[track.nation_id]: track.status.value for track in rows}


def ended_notices(app, ref: str) -> list[str]:
    with app.app_context(), session_scope() as session:
        return sorted(
            m.recipient
            for m in session.exec(select(OutboxMessage))
            if m.subject.startswith(f"{ref} no longer uses")
        )


def test_only_the_dropped_nations_track_ends_and_only_once(app, flow):
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar", recommendation="changes", comment="?")
    flow.edit("researcher", ref, **{**COMPLETE, "datasets": ["cedar-health"]})
    flow.do("researcher", "submit", ref)
    assert track_states(app, ref) == {"red-cedar": "review", "blue-heron": "ended"}
    heron_people = sorted(PEOPLE[who][0] for who in ("heron_steward", "heron_rep"))
    assert ended_notices(app, ref) == heron_people, "only the dropped Nation is told"

    flow.do("coordinator", "screen", ref, outcome="return", reason="clarification", comment="?")
    flow.do("researcher", "submit", ref)
    assert track_states(app, ref)["blue-heron"] == "ended"
    assert ended_notices(app, ref) == heron_people, "an ended track is not ended again"

    flow.do("coordinator", "screen", ref)
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    flow.do("cedar_steward2", "review", ref, "red-cedar")
    assert flow.do("cedar_rep", "decide", ref, "red-cedar") == "awaiting_signatures", (
        "the dropped Nation's ended track does not wait for a decision"
    )


def test_a_granted_role_must_still_reach_the_request(app, nations, make_user, ask, make_request):
    rep = make_user("rep@example.org", ("representative", "red-cedar"))
    other = make_user("other@example.org", "researcher")
    heron_only = make_request(["heron-schools"])
    assert rules(ask(rep, "refuse", "red-cedar", heron_only)) == {
        "role": "This request does not touch the data of the Nation you act for."
    }
    assert rules(ask(other, "withdraw", request_id=heron_only)) == {
        "role": "Only the researcher who filed this request may do this."
    }


def test_the_researchers_own_review_does_not_count_even_as_a_steward(
    app, cedar, make_request, add_review
):
    """The researcher is on the requesting side by account, not by a team e-mail: made a
    steward of the Nation, their (slipped-in) review still counts for nothing."""
    from portal.auth import service as auth
    from portal.auth.models import User

    request_id = make_request(["cedar-health"])
    with app.app_context(), session_scope() as session:
        researcher = session.get(User, session.get(AccessRequest, request_id).researcher_id)
        auth.grant_role(session, researcher, "steward", get_nation(session, "red-cedar"))
        researcher_id = researcher.id
    add_review(request_id, "red-cedar", researcher_id)
    counted = tally_of(app, request_id)
    assert (counted.counted, counted.reachable) == (0, 3), "s1, s2 and s3 only"
