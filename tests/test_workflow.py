"""The request workflow through the service layer: every transition, legal and
refused, and the sovereignty invariants of ARCHITECTURE.md."""

from datetime import timedelta

import pytest
from sqlmodel import select

from portal.db import session_scope, utcnow
from portal.errors import Forbidden, NotFound, Refused, ValidationError
from portal.policy.access import get_visible
from portal.requests.models import AccessRequest, RequestRevision
from portal.reviews.models import Decision, NationTrack, Review

from helpers import csrf_token, sign_in


def rules(excinfo) -> set[str]:
    return {rule.rule for rule in excinfo.value.blocked_by}


def snapshot_rows(app, ref):
    """Everything the workflow writes about one request, to prove a refusal wrote nothing."""
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        return (
            request.model_dump(),
            [r.model_dump() for r in session.exec(select(RequestRevision))],
            [t.model_dump() for t in session.exec(select(NationTrack))],
            [r.model_dump() for r in session.exec(select(Review))],
            [d.model_dump() for d in session.exec(select(Decision))],
        )


def test_a_two_nation_request_from_draft_to_signatures(flow):
    ref = flow.draft()
    assert flow.do("researcher", "submit", ref) == "screening"
    assert flow.do("coordinator", "screen", ref) == "under_review"
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    flow.do("cedar_steward2", "review", ref, "red-cedar")
    flow.do("heron_steward", "review", ref, "blue-heron")
    assert flow.do("cedar_rep", "decide", ref, "red-cedar", conditions=["aggregate_only"]) == (
        "under_review"
    ), "one Nation's approval does not carry the other's data"
    assert flow.do("heron_rep", "decide", ref, "blue-heron") == "awaiting_signatures"


def test_submission_names_every_missing_field_and_changes_nothing(app, flow):
    ref = flow.draft(title="", purpose="", datasets=[], retention_days=None, team=[])
    before = snapshot_rows(app, ref)
    with pytest.raises(ValidationError) as excinfo:
        flow.do("researcher", "submit", ref)
    assert set(excinfo.value.errors) == {"title", "purpose", "datasets", "retention_days", "team"}
    assert snapshot_rows(app, ref) == before


def test_a_double_submit_is_refused(flow):
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    with pytest.raises(Refused) as excinfo:
        flow.do("researcher", "submit", ref)
    assert rules(excinfo) == {"state"}


def test_drafts_are_invisible_to_everyone_else(flow):
    ref = flow.draft()
    for who in ("other_researcher", "coordinator", "cedar_steward1", "cedar_rep", "admin"):
        with pytest.raises(NotFound):
            flow.do(who, "submit", ref)


@pytest.mark.parametrize("who", ["coordinator", "admin", "cedar_steward1", "heron_rep"])
def test_invariant_1_only_the_nations_representative_decides(app, flow, who):
    ref = flow.reviewed()
    before = snapshot_rows(app, ref)
    for outcome in ("approve", "refuse"):
        with pytest.raises((Forbidden, NotFound)):
            flow.do(who, "decide", ref, "red-cedar", outcome=outcome, reason="not mine to give")
    assert snapshot_rows(app, ref) == before


def test_invariant_2_approval_needs_the_quorum_of_designated_stewards(app, flow):
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    with pytest.raises(Refused) as excinfo:
        flow.do("cedar_rep", "decide", ref, "red-cedar")
    assert "quorum_met" in rules(excinfo)
    message = next(r.message for r in excinfo.value.blocked_by if r.rule == "quorum_met")
    assert "Red Cedar Nation (fictional)" in message and "2" in message and "1" in message


def test_invariant_2_a_conflicted_steward_does_not_count(flow):
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    flow.do("cedar_steward2", "review", ref, "red-cedar", conflict_of_interest=True)
    with pytest.raises(Refused) as excinfo:
        flow.do("cedar_rep", "decide", ref, "red-cedar")
    assert "quorum_met" in rules(excinfo)
    flow.do("cedar_steward3", "review", ref, "red-cedar")
    flow.do("cedar_rep", "decide", ref, "red-cedar")


def test_invariant_2_refusal_needs_no_quorum(flow):
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    assert (
        flow.do(
            "heron_rep", "decide", ref, "blue-heron", outcome="refuse", reason="Not with our data."
        )
        == "refused"
    )


def test_invariant_3_silence_is_never_consent(app, flow):
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        request.updated_at = utcnow() - timedelta(days=3650)  # ten years without an answer
    with pytest.raises(Refused):
        flow.do("cedar_rep", "decide", ref, "red-cedar")
    assert flow.status(ref) == "under_review"


def test_invariant_4_any_refusal_refuses_the_whole_request(flow):
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    assert (
        flow.do(
            "heron_rep",
            "decide",
            ref,
            "blue-heron",
            outcome="refuse",
            reason="Outside our priorities.",
        )
        == "refused"
    )
    with pytest.raises(Refused):
        flow.do("heron_rep", "decide", ref, "blue-heron")


def test_invariant_5_storage_and_term_follow_each_nations_profile(flow):
    ref = flow.reviewed(storage_location="US", retention_days=1000)
    with pytest.raises(Refused) as excinfo:
        flow.do("cedar_rep", "decide", ref, "red-cedar")
    assert {"storage_in_jurisdiction", "term_within_limit"} <= rules(excinfo)
    # Blue Heron set no residency and no maximum term: its own approval stands.
    flow.do("heron_rep", "decide", ref, "blue-heron")


def test_changes_requested_then_a_fresh_review_of_the_new_revision(app, flow):
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    assert (
        flow.do(
            "heron_steward",
            "review",
            ref,
            "blue-heron",
            recommendation="changes",
            comment="Say how results come back to us.",
        )
        == "changes_requested"
    )
    flow.edit("researcher", ref, community_benefit="Results returned to each Nation first.")
    flow.do("researcher", "submit", ref)
    flow.do("coordinator", "screen", ref)
    with app.app_context(), session_scope() as session:
        from portal.requests.service import changes_since_previous

        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        assert request.current_revision == 2
        assert [c[0] for c in changes_since_previous(session, request)] == ["community_benefit"]
    flow.do("cedar_steward2", "review", ref, "red-cedar")
    with pytest.raises(Refused) as excinfo:  # steward1 reviewed revision 1 only
        flow.do("cedar_rep", "decide", ref, "red-cedar")
    assert "quorum_met" in rules(excinfo)


def test_a_steward_reviews_a_revision_once(flow):
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    with pytest.raises(Refused) as excinfo:
        flow.do("cedar_steward1", "review", ref, "red-cedar")
    assert rules(excinfo) == {"one_review_per_steward"}


def test_a_steward_reviews_only_for_their_own_nation(flow):
    ref = flow.to_review()
    with pytest.raises(Forbidden):
        flow.do("heron_steward", "review", ref, "red-cedar")


@pytest.mark.parametrize("reason", ["clarification", "outside_mandate"])
def test_screening_returns_with_a_reason(flow, reason):
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    with pytest.raises(ValidationError) as excinfo:
        flow.do("coordinator", "screen", ref, outcome="return", reason=reason)
    assert "comment" in excinfo.value.errors
    assert (
        flow.do(
            "coordinator", "screen", ref, outcome="return", reason=reason, comment="Which years?"
        )
        == "changes_requested"
    )


def test_coordinators_never_review(flow):
    ref = flow.to_review()
    with pytest.raises(Forbidden):
        flow.do("coordinator", "review", ref, "red-cedar")


def test_withdraw_needs_a_reason_and_ends_the_request(flow):
    ref = flow.to_review()
    with pytest.raises(ValidationError):
        flow.do("researcher", "withdraw", ref, reason="  ")
    assert flow.do("researcher", "withdraw", ref) == "withdrawn"
    with pytest.raises(Refused):
        flow.do("researcher", "withdraw", ref)


def test_a_nation_revokes_at_once(flow):
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    flow.do("heron_rep", "decide", ref, "blue-heron")
    with pytest.raises(Forbidden):
        flow.do("coordinator", "revoke", ref, "red-cedar")
    assert flow.do("heron_rep", "revoke", ref, "blue-heron", reason="Breach") == "revoked"


def test_conditions_are_kept_with_the_decision(app, flow):
    ref = flow.reviewed()
    flow.do(
        "cedar_rep",
        "decide",
        ref,
        "red-cedar",
        conditions=["aggregate_only", "Publish in plain language too."],
    )
    with app.app_context(), session_scope() as session:
        decision = session.exec(select(Decision)).one()
        assert [c["code"] for c in decision.conditions] == ["aggregate_only", "custom"]
        assert "below 5" in decision.conditions[0]["text"]


def test_every_transition_writes_exactly_one_event(app, flow):
    from portal.audit.models import AuditEvent

    def actions(ref):
        with app.app_context(), session_scope() as session:
            request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
            query = select(AuditEvent.action).where(AuditEvent.request_id == request.id)
            return list(session.exec(query.order_by(AuditEvent.id)))

    ref = flow.reviewed()
    with pytest.raises(Refused):  # a refused action writes no event
        flow.do("researcher", "submit", ref)
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    flow.do("heron_rep", "decide", ref, "blue-heron")
    assert actions(ref) == [
        "request.created",
        "request.submitted",
        "request.screened",
        "review.recorded",
        "review.recorded",
        "review.recorded",
        "decision.approved",
        "decision.approved",
    ]


def test_the_web_records_where_a_change_came_from(app, client, flow):
    from portal.audit.models import AuditEvent

    from helpers import csrf_token, sign_in

    ref = flow.draft()
    sign_in(client, "researcher@example.org")
    page = client.get(f"/requests/{ref}/edit", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    data = {**{k: v for k, v in flows_form(ref).items()}, "csrf_token": csrf_token(page.text)}
    response = client.post(
        f"/requests/{ref}/edit", data=data, environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    assert response.status_code == 302, response.text
    with app.app_context(), session_scope() as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "request.submitted")
        ).one()
        assert event.client_address == "203.0.113.9"


def flows_form(ref):
    """The complete request as the draft form posts it, asking to submit."""
    from flows import COMPLETE

    data = {k: v for k, v in COMPLETE.items() if k not in ("datasets", "team")}
    data["datasets"] = COMPLETE["datasets"]
    for i, member in enumerate(COMPLETE["team"]):
        for key, value in member.items():
            data[f"team-{i}-{key}"] = value
    data["submit"] = "1"
    return data


def test_only_those_the_policy_lets_create_may_draft(app, client, flow):
    for who in ("coordinator", "cedar_steward1", "admin"):
        with pytest.raises(Forbidden):
            flow.draft(who)
    sign_in(client, "coordinator@example.org")
    page = client.get("/requests/new").get_data(as_text=True)
    response = client.post("/requests/new", data={"title": "x", "csrf_token": csrf_token(page)})
    assert response.status_code == 403
    with app.app_context(), session_scope() as session:
        assert session.exec(select(AccessRequest)).all() == []


def test_someone_else_who_sees_a_request_may_not_edit_it(flow):
    ref = flow.to_review()
    with pytest.raises(Forbidden):
        flow.edit("coordinator", ref, title="Not mine")


@pytest.mark.parametrize("ref", ["r-0000-0000", "R-0000-0000\n", "R-0000-000\x00", "x" * 500])
def test_a_reference_that_is_not_one_finds_nothing(app, flow, ref):
    with app.app_context(), session_scope() as session, pytest.raises(NotFound):
        get_visible(session, flow.user(session, "researcher"), ref)


def test_a_deactivated_account_is_forbidden_everywhere_not_refused(app, flow):
    from portal.auth.models import User
    from portal.workflow import create_draft

    ref = flow.draft()
    with app.app_context(), session_scope() as session:
        researcher = session.exec(select(User).where(User.email == "researcher@example.org")).one()
        researcher.active = False
    with app.app_context(), session_scope() as session:
        researcher = session.exec(select(User).where(User.email == "researcher@example.org")).one()
        with pytest.raises(Forbidden, match="deactivated"):
            create_draft(session, researcher, {"title": "Another"})
    with pytest.raises(Forbidden, match="deactivated"):
        flow.do("researcher", "submit", ref)
    assert flow.status(ref) == "draft"
