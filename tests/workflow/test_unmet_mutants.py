"""What a request says that a Nation's review or approval would not accept, named while
a decision is still ahead (portal/workflow/unmet.py): each rule on what the request says,
portal-wide or the Nation's own, with its words; never a rule on the deliberation
(quorum, approvals, unanimity); each reason once, those of review before those of
approval. Each test kills mutants of unmet.py that the rest of the suite let live: a
condition left out of (or let into) what is named, a reason named twice, the review's
reasons overwritten by the approval's, the edits' datasets not counted."""

import pytest
from sqlmodel import select

from portal.db import session_scope
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest
from portal.workflow.nation_rules import set_nation_rules
from portal.workflow.unmet import unmet

CEDAR = "Red Cedar Nation (fictional)"
HERON = "Blue Heron Métis (fictional)"
NO_ETHICS = "The request names no ethics approval: give the ethics board and its reference."
HERON_TEAM = f"{HERON} allows at most 1 team member on a request; this request names 2."
TWO_ON_TEAM = [
    {"name": "Robin Researcher", "email": "robin@example.org", "role": "PI"},
    {"name": "Sam Analyst", "email": "sam@example.org", "role": "Analyst"},
]


def set_rules(flow, slug: str, rules: dict) -> None:
    """The Nation's representative makes ``rules`` its own (saved as its page saves them)."""
    who = {"red-cedar": "cedar_rep", "blue-heron": "heron_rep"}[slug]
    with flow.app.app_context(), session_scope() as session:
        set_nation_rules(session, flow.user(session, who), get_nation(session, slug), rules)


def unmet_for(flow, ref: str, slug: str, *datasets) -> list[str]:
    """What ``unmet`` names for the Nation on the request (``datasets``: an edit's)."""
    with flow.app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        nation = get_nation(session, slug)
        if datasets:
            return unmet(session, request, nation, list(datasets))
        return unmet(session, request, nation)


# Each condition on what the request says, the request that does not meet it, and its
# words. The portal-wide two (Red Cedar: stored in CA, kept at most 730 days) need no
# rule of the Nation's; Blue Heron chooses each of the others for its approval.
ON_WHAT_IT_SAYS = [
    (
        "storage_in_jurisdiction",
        None,
        {"storage_location": "US-NY"},
        "red-cedar",
        f"{CEDAR} requires the data to be stored in CA; this request would store it in US-NY.",
    ),
    (
        "term_within_limit",
        None,
        {"retention_days": 1000},
        "red-cedar",
        f"{CEDAR} allows a term of at most 730 days; this request asks for 1000.",
    ),
    ("ethics_approval_given", {}, {"ethics_approval": "  "}, "blue-heron", NO_ETHICS),
    (
        "community_benefit_described",
        {"min_words": "6"},  # the usual request's six words meet it
        {"community_benefit": "Evidence for advocacy."},
        "blue-heron",
        f"{HERON} requires the benefit to the community described in at least 6 words; "
        "this request gives 3.",
    ),
    (
        "harm_assessment_described",
        {"min_words": "8"},  # the usual request's eight words meet it
        {"harm_assessment": "Small cells suppressed."},
        "blue-heron",
        f"{HERON} requires the possible harms described in at least 8 words; this request gives 3.",
    ),
    ("team_at_most", {"count": "1"}, {"team": TWO_ON_TEAM}, "blue-heron", HERON_TEAM),
    (
        "datasets_at_most",
        {"count": "1"},
        {"datasets": ["heron-schools", "shared-welfare"]},
        "blue-heron",
        f"{HERON} allows at most 1 of its datasets in one request; this request asks for 2.",
    ),
]


@pytest.mark.parametrize(
    ("condition", "params", "fields", "slug", "words"),
    ON_WHAT_IT_SAYS,
    ids=[case[0] for case in ON_WHAT_IT_SAYS],
)
def test_each_rule_on_what_the_request_says_is_named_in_its_words(
    flow, condition, params, fields, slug, words
):
    if params is not None:
        set_rules(flow, slug, {"approve": [(condition, params)]})
    ref = flow.draft(**fields)
    assert unmet_for(flow, ref, slug) == [words]
    other = "blue-heron" if slug == "red-cedar" else "red-cedar"
    assert unmet_for(flow, ref, other) == [], "only the Nation whose rule it is"
    assert unmet_for(flow, flow.draft(), slug) == [], "a request that meets it: nothing"


def test_the_rules_on_the_deliberation_are_never_named(flow):
    """Under review with no review yet, neither Nation has its quorum nor its approvals,
    and a steward's refusal breaks Blue Heron's unanimity: the tracks say where those
    stand, so nothing is named."""
    set_rules(flow, "blue-heron", {"approve": [("recommendations_unanimous", {})]})
    ref = flow.to_review()
    assert (unmet_for(flow, ref, "red-cedar"), unmet_for(flow, ref, "blue-heron")) == ([], [])
    flow.do("heron_steward", "review", ref, "blue-heron", recommendation="refuse", comment="No.")
    assert unmet_for(flow, ref, "blue-heron") == []
    assert unmet_for(flow, flow.draft(), "red-cedar") == [], "nor screening, on a draft"


def test_a_rule_on_both_review_and_approval_is_named_once(flow):
    set_rules(
        flow,
        "blue-heron",
        {"review": [("ethics_approval_given", {})], "approve": [("ethics_approval_given", {})]},
    )
    assert unmet_for(flow, flow.draft(ethics_approval=""), "blue-heron") == [NO_ETHICS]


def test_the_reviews_reasons_come_first_and_the_approvals_are_added_to_them(flow):
    """A reason of the review is not lost to those of the approval, nor one of the
    approval to those of the review; the review's come first, as the steps come."""
    set_rules(
        flow,
        "blue-heron",
        {"review": [("team_at_most", {"count": "1"})], "approve": [("ethics_approval_given", {})]},
    )
    ref = flow.draft(ethics_approval="", team=TWO_ON_TEAM)
    assert unmet_for(flow, ref, "blue-heron") == [HERON_TEAM, NO_ETHICS]
    assert unmet_for(flow, flow.draft(team=TWO_ON_TEAM), "blue-heron") == [HERON_TEAM]
    assert unmet_for(flow, flow.draft(ethics_approval=""), "blue-heron") == [NO_ETHICS]


def test_the_datasets_of_an_edit_are_counted_when_given_and_the_requests_own_when_not(flow):
    set_rules(flow, "blue-heron", {"review": [("datasets_at_most", {"count": "1"})]})
    ref = flow.draft(datasets=["heron-schools"])
    two = f"{HERON} allows at most 1 of its datasets in one request; this request asks for 2."
    assert unmet_for(flow, ref, "blue-heron") == []
    assert unmet_for(flow, ref, "blue-heron", "heron-schools", "shared-welfare") == [two]
    both = flow.draft(datasets=["heron-schools", "shared-welfare"])
    assert unmet_for(flow, both, "blue-heron") == [two]
    assert unmet_for(flow, both, "blue-heron", "cedar-health", "heron-schools") == []
