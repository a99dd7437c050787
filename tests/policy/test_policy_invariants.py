"""ARCHITECTURE.md's sovereignty invariants 1–5, each asked of authorize() itself."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from portal.db import session_scope
from portal.policy.models import PolicyRule
from portal.policy.store import bump_version
from portal.requests.models import AccessRequest
from portal.reviews.models import Review

CEDAR = "Red Cedar Nation (fictional)"  # review_quorum 2, residency CA, max term 730 days


def rules(decision) -> list[str]:
    return [rule.rule for rule in decision.blocked_by]


@pytest.fixture
def people(nations, make_user):
    return {
        "cedar_rep": make_user("rep@cedar.example", ("representative", "red-cedar")),
        "heron_rep": make_user("rep@heron.example", ("representative", "blue-heron")),
        "cedar_steward1": make_user("s1@cedar.example", ("steward", "red-cedar")),
        "cedar_steward2": make_user("s2@cedar.example", ("steward", "red-cedar")),
        "heron_steward": make_user("s@heron.example", ("steward", "blue-heron")),
        "coordinator": make_user("coordinator@example.org", "coordinator"),
        "admin": make_user("admin@example.org", "admin"),
        "researcher": make_user("r2@example.org", "researcher"),
        # Every role but representative of Red Cedar, at once (but administrator: an
        # administrator never acts for a Nation, so no login holds both).
        "everything_else": make_user(
            "all@example.org", "coordinator", "researcher",
            ("steward", "red-cedar"), ("representative", "blue-heron"),
        ),
    }  # fmt: skip


@pytest.mark.parametrize("action", ["approve", "refuse", "revoke"])
def test_1_only_a_representative_of_x_decides_for_x(people, ask, make_request, action):
    request_id = make_request(["cedar-health"])
    for who in (
        "coordinator",
        "admin",
        "cedar_steward1",
        "heron_rep",
        "researcher",
        "everything_else",
    ):
        decision = ask(people[who], action, "red-cedar", request_id)
        assert not decision.allowed and rules(decision) == ["role"], who
        assert decision.blocked_by[0].message.startswith(f"Only a representative of {CEDAR} may")
    representative = ask(people["cedar_rep"], action, "red-cedar", request_id)
    assert "role" not in rules(representative)


def test_2_approval_needs_a_quorum_of_designated_unconflicted_stewards_on_this_revision(
    people, ask, make_request, add_review, revoke
):
    request_id = make_request(["cedar-health"], revision=3)
    add_review(request_id, "red-cedar", people["cedar_steward1"], revision=3)
    add_review(request_id, "red-cedar", people["cedar_steward2"], revision=2)  # an older revision
    add_review(request_id, "red-cedar", people["heron_steward"], revision=3)  # not Red Cedar's
    add_review(request_id, "red-cedar", people["everything_else"], revision=3, conflict=True)
    decision = ask(people["cedar_rep"], "approve", "red-cedar", request_id)
    assert rules(decision) == ["quorum_met"]
    assert decision.blocked_by[0].message == (
        f"{CEDAR} requires 2 steward reviews of this revision; 1 recorded."
    )

    add_review(request_id, "red-cedar", people["cedar_steward2"], revision=3)
    assert ask(people["cedar_rep"], "approve", "red-cedar", request_id).allowed
    # A steward removed after reviewing no longer counts.
    revoke(people["cedar_steward2"], "steward", "red-cedar")
    assert rules(ask(people["cedar_rep"], "approve", "red-cedar", request_id)) == ["quorum_met"]


def test_2_refusal_needs_no_quorum_and_is_always_possible(people, ask, make_request):
    request_id = make_request(
        ["cedar-health"], storage_location="US", retention_days=9999, ethics_approval=""
    )
    blocked = ask(people["cedar_rep"], "approve", "red-cedar", request_id)
    assert set(rules(blocked)) == {"quorum_met", "min_approvals_met", "storage_in_jurisdiction",
                                   "term_within_limit"}  # fmt: skip
    refusal = ask(people["cedar_rep"], "refuse", "red-cedar", request_id)
    assert refusal.allowed and refusal.blocked_by == []


def test_3_silence_is_never_consent(app, people, ask, make_request, add_review):
    request_id = make_request(["cedar-health"])
    add_review(request_id, "red-cedar", people["cedar_steward1"])
    before = ask(people["cedar_rep"], "approve", "red-cedar", request_id)
    long_ago = datetime(2019, 1, 1, tzinfo=UTC)
    with app.app_context(), session_scope() as session:
        # Idle for years: every timestamp the request and its reviews carry is old.
        session.exec(sa.update(AccessRequest).values(created_at=long_ago, updated_at=long_ago))
        session.exec(sa.update(Review).values(created_at=long_ago))
    after = ask(people["cedar_rep"], "approve", "red-cedar", request_id)
    assert not after.allowed and after.blocked_by == before.blocked_by
    assert rules(after) == ["quorum_met"]


def test_4_each_nation_decides_alone(people, ask, make_request, add_review):
    request_id = make_request(["shared-welfare"])  # Red Cedar's and Blue Heron's data
    add_review(request_id, "red-cedar", people["cedar_steward1"])
    add_review(request_id, "red-cedar", people["cedar_steward2"])
    assert ask(people["cedar_rep"], "approve", "red-cedar", request_id).allowed
    # Red Cedar's reviews and representative say nothing for Blue Heron (quorum 1).
    heron = ask(people["heron_rep"], "approve", "blue-heron", request_id)
    assert rules(heron) == ["quorum_met", "min_approvals_met"]
    assert "Blue Heron Métis (fictional) requires 1 steward review" in heron.blocked_by[0].message
    assert rules(ask(people["cedar_rep"], "approve", "blue-heron", request_id)) == ["role"]
    add_review(request_id, "blue-heron", people["heron_steward"])
    assert ask(people["heron_rep"], "approve", "blue-heron", request_id).allowed


@pytest.mark.parametrize(
    ("storage", "retention", "blocked"),
    [
        ("CA-ON", 730, []),
        ("CA", 1, []),
        ("US", 730, ["storage_in_jurisdiction"]),
        ("", 730, ["storage_in_jurisdiction"]),
        ("CA-BC", 731, ["term_within_limit"]),
        ("GB", None, ["storage_in_jurisdiction", "term_within_limit"]),
    ],
)
def test_5_storage_and_term_satisfy_each_nations_profile(
    people, ask, make_request, add_review, storage, retention, blocked
):
    request_id = make_request(
        ["shared-welfare"], storage_location=storage, retention_days=retention
    )
    for steward in ("cedar_steward1", "cedar_steward2"):
        add_review(request_id, "red-cedar", people[steward])
    add_review(request_id, "blue-heron", people["heron_steward"])
    assert rules(ask(people["cedar_rep"], "approve", "red-cedar", request_id)) == blocked
    # Blue Heron's profile sets no residency and no maximum term.
    assert ask(people["heron_rep"], "approve", "blue-heron", request_id).allowed


def test_the_invariants_hold_even_against_rows_that_bypassed_the_check(
    app, people, ask, make_request
):
    """Rows written into the database by hand, not through `portal policy load`."""
    with app.app_context(), session_scope() as session:
        session.add(PolicyRule(ptype="p", v0="coordinator", v1="*", v2="approve"))
        session.add(PolicyRule(ptype="p", v0="admin", v1="red-cedar", v2="refuse"))
        session.add(PolicyRule(ptype="p2", v0="*", v1="refuse", v2="quorum_met"))
        session.add(PolicyRule(ptype="p", v0="admin", v1="*", v2="view"))
        session.add(PolicyRule(ptype="p", v0="researcher", v1="*", v2="view_deliveries"))
        session.exec(
            sa.delete(PolicyRule).where(PolicyRule.ptype == "p2", PolicyRule.v1 == "approve")
        )
        bump_version(session)
    request_id = make_request(["cedar-health"], storage_location="US", retention_days=9999)
    assert rules(ask(people["coordinator"], "approve", "red-cedar", request_id)) == ["role"]
    assert rules(ask(people["admin"], "refuse", "red-cedar", request_id)) == ["role"]
    assert rules(ask(people["admin"], "view", None, request_id)) == ["role"]
    assert rules(ask(people["researcher"], "view_deliveries")) == ["role"]
    assert rules(ask(people["cedar_rep"], "approve", "red-cedar", request_id)) == [
        "quorum_met", "storage_in_jurisdiction", "term_within_limit",
    ]  # fmt: skip
    assert ask(people["cedar_rep"], "refuse", "red-cedar", request_id).allowed
