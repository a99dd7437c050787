"""A Nation sets its own rules (portal/workflow/nation_rules.py): who may, what it may
attach, what is written and audited, what the preview says, and that authorize()
then applies the rule with its parameters."""

import pytest
from sqlmodel import select

from portal.audit.events import EventType
from portal.audit.models import AuditEvent
from portal.db import session_scope
from portal.errors import Forbidden, Refused, ValidationError
from portal.policy.check import check_lines
from portal.policy.files import PolicyLine
from portal.policy.models import RulesOrigin
from portal.policy.versions import number_in_force, rules_in_force
from portal.registry.service import get_nation
from portal.workflow import nation_rules

from helpers import nation_ids_of

CEDAR = "red-cedar"
TEAM_OF_TWO = [
    {"name": "Robin Researcher", "email": "robin@example.org", "role": "PI"},
    {"name": "Sam Analyst", "email": "sam@example.org", "role": "RA"},
]


def set_rules(flow, who: str, rules: dict, nation: str = CEDAR):
    with flow.app.app_context(), session_scope() as session:
        version = nation_rules.set_nation_rules(
            session, flow.user(session, who), get_nation(session, nation), rules
        )
        return None if version is None else version.number


def current(flow, nation: str = CEDAR):
    with flow.app.app_context(), session_scope() as session:
        return nation_rules.nation_rules(session, get_nation(session, nation)), number_in_force(
            session
        )


def test_a_representative_sets_its_nations_rules(flow):
    _, before = current(flow)
    number = set_rules(
        flow, "cedar_rep", {"approve": [("team_at_most", {"count": "3"})], "review": []}
    )
    assert number == (before or 0) + 1
    rules, now = current(flow)
    assert now == number
    assert rules == {
        nation_rules.Action.REVIEW: [],
        nation_rules.Action.APPROVE: [("team_at_most", {"count": "3"})],
    }
    with flow.app.app_context(), session_scope() as session:
        assert ("p2", CEDAR, "approve", "team_at_most", "count=3") in rules_in_force(session).lines
        version = nation_rules.RulesVersion
        saved = session.get(version, number)
        assert saved.origin is RulesOrigin.NATION
        assert saved.nation_id == get_nation(session, CEDAR).id
        assert saved.actor_id == flow.user(session, "cedar_rep").id
        assert "at most 3 team members" in saved.summary
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == EventType.RULES_CHANGED)
        ).all()[-1]
        assert event.details["version"] == number and event.details["origin"] == "nation"
        assert nation_ids_of(session, event) == [get_nation(session, CEDAR).id]
    # The same rules again change nothing and record no version.
    assert set_rules(flow, "cedar_rep", {"approve": [("team_at_most", {"count": 3})]}) is None
    assert current(flow)[1] == number


def test_defaults_are_written_out(flow):
    set_rules(flow, "cedar_rep", {"review": [("community_benefit_described", {})]})
    rules, _ = current(flow)
    assert rules[nation_rules.Action.REVIEW] == [
        ("community_benefit_described", {"min_words": "50"})
    ]


@pytest.mark.parametrize(
    "who", ["cedar_steward1", "admin", "coordinator", "heron_rep", "researcher"]
)
def test_only_the_nations_representatives_set_its_rules(flow, who):
    _, before = current(flow)
    with pytest.raises(Forbidden):
        set_rules(flow, who, {"approve": [("team_at_most", {"count": "3"})]})
    assert current(flow)[1] == before


@pytest.mark.parametrize("action", ["refuse", "revoke", "sign", "screen", "submit"])
def test_refusal_and_the_other_actions_take_no_condition_of_the_nation(flow, action):
    _, before = current(flow)
    with pytest.raises(ValidationError) as raised:
        set_rules(flow, "cedar_rep", {action: [("ethics_approval_given", {})]})
    assert set(raised.value.errors) == {action}
    if action == "refuse":
        assert "cannot make it conditional" in raised.value.errors["refuse"]
    assert current(flow)[1] == before


@pytest.mark.parametrize(
    ("rules", "field", "words"),
    [
        ({"approve": [("full_moon", {})]}, "approve.full_moon", "not a condition"),
        # every Nation's approval needs quorum already: no second line for it
        ({"approve": [("quorum_met", {})]}, "approve.quorum_met", "every Nation needs"),
        # only approval reads the recommendations
        ({"review": [("recommendations_unanimous", {})]}, "review.recommendations_unanimous", ""),
        ({"approve": [("team_at_most", {"size": "3"})]}, "approve.team_at_most.size", "not a"),
        ({"approve": [("team_at_most", {"count": "x"})]}, "approve.team_at_most.count", "whole"),
        ({"approve": [("team_at_most", {"count": "0"})]}, "approve.team_at_most.count", "between"),
        (
            {"approve": [("team_at_most", {}), ("team_at_most", {"count": "2"})]},
            "approve.team_at_most",
            "chosen twice",
        ),
    ],
)
def test_what_will_not_do_is_named_and_nothing_is_written(flow, rules, field, words):
    _, before = current(flow)
    with pytest.raises(ValidationError) as raised:
        set_rules(flow, "cedar_rep", rules)
    assert field in raised.value.errors and words in raised.value.errors[field]
    assert current(flow)[1] == before


def test_the_minimum_is_allowed(flow):
    assert set_rules(flow, "cedar_rep", {"approve": [("team_at_most", {"count": "1"})]})


def test_approval_is_blocked_by_the_nations_rule_with_its_parameter(flow):
    ref = flow.reviewed(team=TEAM_OF_TWO)
    set_rules(flow, "cedar_rep", {"approve": [("team_at_most", {"count": "1"})]})
    with pytest.raises(Refused) as raised:
        flow.do("cedar_rep", "decide", ref, CEDAR)
    assert [rule.rule for rule in raised.value.blocked_by] == ["team_at_most"]
    assert "at most 1 team member" in raised.value.blocked_by[0].message
    # Blue Heron's approval is its own: Red Cedar's rule does not apply to it.
    assert flow.do("heron_rep", "decide", ref, "blue-heron") == "under_review"
    set_rules(flow, "cedar_rep", {"approve": [("team_at_most", {"count": "2"})]})  # at the limit
    assert flow.do("cedar_rep", "decide", ref, CEDAR) == "awaiting_signatures"


def preview(flow, rules: dict, nation: str = CEDAR):
    with flow.app.app_context(), session_scope() as session:
        return nation_rules.preview(session, get_nation(session, nation), rules)


def test_the_preview_lists_what_the_change_would_block_and_unblock(flow):
    in_review = flow.to_review(community_benefit="Evidence for advocacy.")  # 3 words
    flow.draft(community_benefit="x")  # a draft is not in flight
    stricter = {"approve": [("community_benefit_described", {"min_words": "4"})]}
    [row] = preview(flow, stricter)
    assert (row.ref, row.action, row.effect, row.blocks) == (
        in_review,
        nation_rules.Action.APPROVE,
        "would block",
        True,
    )
    assert row.why == [
        "Red Cedar Nation (fictional) requires the benefit to the community described in "
        "at least 4 words; this request gives 3."
    ]
    # At the boundary, nothing changes for it.
    assert preview(flow, {"approve": [("community_benefit_described", {"min_words": "3"})]}) == []
    # Blue Heron's rules do not touch Red Cedar's requests, but its own in flight.
    assert [r.ref for r in preview(flow, stricter, "blue-heron")] == [in_review]

    set_rules(flow, "cedar_rep", {"review": [("community_benefit_described", {"min_words": "4"})]})
    [row] = preview(flow, {"review": []})
    assert (row.action, row.effect, row.blocks, row.after) == (
        nation_rules.Action.REVIEW,
        "would unblock",
        False,
        [],
    )
    assert "gives 3" in row.why[0]


def test_the_preview_leaves_out_requests_whose_track_is_closed(flow):
    ref = flow.reviewed(community_benefit="Evidence.")
    flow.do("cedar_rep", "decide", ref, CEDAR)
    stricter = {"approve": [("community_benefit_described", {"min_words": "5"})]}
    assert preview(flow, stricter) == []  # Red Cedar approved: its track is closed
    assert [row.ref for row in preview(flow, stricter, "blue-heron")] == [ref]  # still open


def test_the_preview_checks_the_rules_as_saving_does(flow):
    with pytest.raises(ValidationError):
        preview(flow, {"refuse": [("ethics_approval_given", {})]})


def lines(*texts: str) -> list[PolicyLine]:
    return [
        PolicyLine("conditions.csv", number, *_split(text))
        for number, text in enumerate(texts, start=1)
    ]


def _split(text: str):
    ptype, *values = [value.strip() for value in text.split(",")]
    return ptype, tuple(values)


GRANT = "p, representative, *, approve"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("p2, red-cedar, approve, team_at_most, count=3", None),
        ("p2, red-cedar, approve, team_at_most", None),  # the default
        ("p2, red-cedar, approve, team_at_most, size=3", "size is not a parameter"),
        ("p2, red-cedar, approve, team_at_most, count=three", "count must be a whole number"),
        ("p2, red-cedar, approve, team_at_most, count=0", "count must be between 1"),
        ("p2, red-cedar, approve, screened, count=1", "count is not a parameter"),
    ],
)
def test_the_checker_reads_parameters(line, problem):
    found = [
        str(p)
        for p in check_lines(lines(GRANT, line), {"red-cedar"})
        if "must need" not in str(p) and "must keep the right" not in str(p)  # not the point
    ]
    if problem is None:
        assert found == []
    else:
        [reported] = found
        assert reported.startswith("conditions.csv:2: ") and problem in reported


def test_a_condition_twice_in_one_domain_and_action_is_a_duplicate_whatever_its_parameters():
    found = [
        str(p)
        for p in check_lines(
            lines(
                GRANT,
                "p2, red-cedar, approve, team_at_most, count=3",
                "p2, red-cedar, approve, team_at_most, count=4",
                "p2, red-cedar, review, team_at_most, count=4",
            ),
            {"red-cedar"},
        )
        if "must need" not in str(p)
    ]
    assert any(p.startswith("conditions.csv:3: duplicate of conditions.csv:2") for p in found)
    assert not any(p.startswith("conditions.csv:4") and "duplicate" in p for p in found)


def test_a_nations_own_condition_beside_the_same_one_for_every_nation_both_apply():
    """Not a duplicate: a Nation may be stricter than every Nation, and a portal-wide
    change to the condition leaves the Nation's own alone."""
    found = check_lines(
        lines(
            GRANT,
            "p2, *, approve, team_at_most, count=10",
            "p2, red-cedar, approve, team_at_most, count=3",
        ),
        {"red-cedar"},
    )
    assert [
        str(p) for p in found if "must need" not in str(p) and "keep the right" not in str(p)
    ] == []
