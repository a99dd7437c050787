"""The governance counts at their edges, as the people who act on them read them: each
test here kills a mutant of the rules (portal/reviews/service.py, portal/workflow/,
portal/policy/approval.py) that the rest of the suite let live."""

import pytest

from portal.errors import ValidationError
from portal.policy.approval import ApprovalRule, Outcome

from helpers import sign_in

CEDAR = "Red Cedar Nation (fictional)"
REFUSE = {"recommendation": "refuse", "comment": "Not with our data."}
APPROVE = {"recommendation": "approve"}
CONFLICT = {"conflict_of_interest": True}


@pytest.mark.parametrize(
    ("reviews", "shown"),
    [
        ([], "0 of 2 needed; 0 recommend approval (1 needed)."),
        ([APPROVE], "1 of 2 needed; 1 recommend approval (1 needed)."),
        ([CONFLICT, APPROVE], "1 of 2 needed; 1 recommend approval (1 needed)."),
        ([REFUSE, REFUSE], "2 of 2 needed; 0 recommend approval (1 needed)."),
        ([REFUSE, APPROVE], "2 of 2 needed; 1 recommend approval (1 needed)."),
        ([APPROVE, APPROVE, REFUSE], "3 of 2 needed; 2 recommend approval (1 needed)."),
    ],
)
def test_the_decide_page_counts_reviews_and_approvals_as_the_rules_do(client, flow, reviews, shown):
    """The representative decides on these numbers (Red Cedar: quorum 2, 1 approval):
    a conflict is not counted, a refusal is counted but is no approval."""
    ref = flow.to_review()
    for number, body in enumerate(reviews, start=1):
        flow.do(f"cedar_steward{number}", "review", ref, "red-cedar", **body)
    sign_in(client, "rep.cedar@example.org")
    page = client.get(f"/requests/{ref}/decide/red-cedar")
    assert page.status_code == 200 and shown in page.text


# --- the approval rule of a portal-wide change (portal/policy/approval.py) -------------


@pytest.mark.parametrize("approval", ["majority", "two_thirds", "all"])
def test_with_no_member_nations_a_change_still_needs_one_approval(approval):
    """A change nobody approved never applies, even when no Nation is a member: with
    none to approve it, it is rejected rather than applied by silence."""
    rule = ApprovalRule(approval, objection_stops=True)
    assert rule.needed(0) == 1
    assert rule.outcome(0, 0, 0) is Outcome.REJECTED
    assert rule.outcome(0, 1, 0) is Outcome.APPROVED


@pytest.mark.parametrize(
    ("approval", "members", "words"),
    [
        ("majority", 1, "1 of 1 member Nations must approve"),
        ("majority", 2, "2 of 2 member Nations must approve"),
        ("majority", 3, "2 of 3 member Nations must approve (more than half)"),
        ("two_thirds", 2, "2 of 2 member Nations must approve (two thirds)"),
    ],
)
def test_the_rule_in_words_names_the_share_only_where_it_tells_something(approval, members, words):
    """ "more than half" of one or two Nations is every one of them: not said then."""
    assert ApprovalRule(approval, objection_stops=False).words(members) == words


def test_a_refusal_is_never_blocked_by_the_conditions_it_throws_away(flow):
    """Refusal needs nothing but a reason (invariant 2). Found by mutation testing: the
    conditions and dues a refusal discards were checked, so a condition the rules no
    longer hold (kept in a decide form, say) stood in the way of refusing."""
    ref = flow.reviewed()
    flow.do(
        "cedar_rep", "decide", ref, "red-cedar", outcome="refuse", reason="No.",
        conditions=["no_such_code", "two\nlines"], dues={"elsewhere": "someday"},
    )  # fmt: skip
    assert flow.status(ref) == "refused"


def test_a_decision_is_an_approval_or_a_refusal(flow):
    ref = flow.reviewed()
    with pytest.raises(ValidationError) as refused:
        flow.do("cedar_rep", "decide", ref, "red-cedar", outcome="maybe", reason="Hm.")
    assert refused.value.errors == {"outcome": "Choose approve or refuse."}
    assert flow.status(ref) == "under_review"
