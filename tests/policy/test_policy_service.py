"""authorize(), require(), explain() and roles_in(): the answers and their reasons."""

import shutil

import pytest
from sqlmodel import select

from portal.audit.models import AuditEvent
from portal.auth import service as auth
from portal.auth.models import Role, User
from portal.db import session_scope
from portal.errors import BlockingRule, NotFound, Refused
from portal.paths import resource_dir
from portal.policy import service as policy
from portal.policy.models import PolicyRule
from portal.policy.store import read_version, store_for
from portal.policy.sync import load_files
from portal.registry.service import get_nation

CEDAR = "Red Cedar Nation (fictional)"


@pytest.fixture
def session(app):
    """A session for reading only (writes go through the fixtures' own sessions)."""
    with app.app_context(), session_scope() as session:
        yield session


def test_role_refusals_say_who_may(nations, make_user, ask):
    coordinator = make_user("c@example.org", "coordinator")
    steward = make_user("s@example.org", ("steward", "red-cedar"))
    assert ask(coordinator, "approve", "red-cedar").blocked_by == [
        BlockingRule("role", f"Only a representative of {CEDAR} may approve for it.")
    ]
    assert ask(steward, "screen", "red-cedar").blocked_by == [
        BlockingRule("role", "Only a coordinator may screen requests.")
    ]
    assert ask(coordinator, "manage_users").blocked_by == [
        BlockingRule("role", "Only an admin may manage users.")
    ]
    assert ask(steward, "view", "red-cedar").allowed
    message = ask(coordinator, "review", "blue-heron").blocked_by[0].message
    assert message == "Only a steward of Blue Heron Métis (fictional) may review for it."


def test_require_raises_refused_with_every_blocking_rule(app, nations, make_user, make_request):
    representative = make_user("rep@example.org", ("representative", "red-cedar"))
    request_id = make_request(storage_location="US")
    from portal.requests.models import AccessRequest

    with app.app_context(), session_scope() as session:
        user = session.get(User, representative)
        nation = get_nation(session, "red-cedar")
        request = session.get(AccessRequest, request_id)
        with pytest.raises(Refused) as refused:
            policy.require(session, user, "approve", nation=nation, request=request)
        assert [rule.rule for rule in refused.value.blocked_by] == [
            "quorum_met", "min_approvals_met", "storage_in_jurisdiction",
        ]  # fmt: skip
        assert f"{CEDAR} requires 2 steward reviews of this revision; 0 recorded." in (
            refused.value.message
        )
        explained = policy.explain(session, user, "approve", nation=nation, request=request)
        assert explained == [rule.message for rule in refused.value.blocked_by]
        decision = policy.authorize(session, user, "approve", nation=nation, request=request)
        assert decision.as_problem()[2] == {
            "rule": "storage_in_jurisdiction",
            "message": f"{CEDAR} requires the data to be stored in CA; "
            "this request would store it in US.",
        }
        policy.require(session, user, "refuse", nation=nation, request=request)  # no exception
        assert policy.explain(session, user, "refuse", nation=nation, request=request) == []


def test_asking_in_the_wrong_scope_is_a_programming_error(nations, make_user, session):
    user = session.get(User, make_user("rep@example.org", ("representative", "red-cedar")))
    nation = get_nation(session, "red-cedar")
    with pytest.raises(ValueError, match="for one Nation"):
        policy.authorize(session, user, "approve")
    with pytest.raises(ValueError, match="portal-wide"):
        policy.authorize(session, user, "manage_users", nation=nation)
    with pytest.raises(ValueError, match="unknown action"):
        policy.authorize(session, user, "decide", nation=nation)


def test_a_deactivated_account_may_do_nothing(app, nations, make_user, ask):
    admin = make_user("admin@example.org", "admin")
    assert ask(admin, "manage_users").allowed
    with app.app_context(), session_scope() as session:
        session.get(User, admin).active = False
    assert ask(admin, "manage_users").blocked_by == [
        BlockingRule("account", "This account is deactivated.")
    ]


def test_roles_in(nations, make_user, session):
    user = session.get(
        User,
        make_user(
            "x@example.org",
            "researcher",
            ("steward", "red-cedar"),
            ("representative", "blue-heron"),
        ),
    )
    assert policy.roles_in(session, user, get_nation(session, "red-cedar")) == {
        Role.RESEARCHER, Role.STEWARD,
    }  # fmt: skip
    assert policy.roles_in(session, user, get_nation(session, "blue-heron")) == {
        Role.RESEARCHER, Role.REPRESENTATIVE,
    }  # fmt: skip
    assert policy.roles_in(session, user, None) == {Role.RESEARCHER}


def test_grants_and_revocations_move_the_version_only_when_they_change_something(
    app, nations, make_user
):
    user_id = make_user("x@example.org")
    with app.app_context(), session_scope() as session:
        user, nation = session.get(User, user_id), get_nation(session, "red-cedar")
        start = read_version(session)
        auth.grant_role(session, user, "steward", nation)
        auth.grant_role(session, user, "steward", nation)  # idempotent: no second bump
        assert read_version(session) == start + 1
        auth.revoke_role(session, user, "steward", nation)
        assert read_version(session) == start + 2
        with pytest.raises(NotFound, match="is not a steward of Red Cedar"):
            auth.revoke_role(session, user, "steward", nation)
        assert read_version(session) == start + 2


def test_a_transaction_sees_its_own_role_changes_but_other_requests_do_not(
    app, nations, make_user, ask
):
    user_id = make_user("x@example.org")
    with app.app_context():
        with session_scope() as warm:
            store = store_for(warm)
            policy.authorize(
                warm, warm.get(User, user_id), "view", nation=get_nation(warm, "red-cedar")
            )
        shared_version = store.loaded_version
        with session_scope() as session:
            user, nation = session.get(User, user_id), get_nation(session, "red-cedar")
            assert not policy.authorize(session, user, "review", nation=nation).allowed
            auth.grant_role(session, user, "steward", nation)
            assert "role" not in [
                rule.rule
                for rule in policy.authorize(session, user, "review", nation=nation).blocked_by
            ]
            session.rollback()
        # The shared enforcer was never built from the uncommitted grant.
        assert store.loaded_version == shared_version
    assert [rule.rule for rule in ask(user_id, "review", "red-cedar").blocked_by] == ["role"]


def test_a_condition_the_portal_does_not_know_never_lets_anything_through(
    app, nations, make_user, ask
):
    researcher = make_user("r@example.org", "researcher")
    with app.app_context(), session_scope() as session:
        session.add(PolicyRule(ptype="p2", v0="*", v1="edit", v2="full_moon"))
        from portal.policy.store import bump_version

        bump_version(session)
    decision = ask(researcher, "edit", "red-cedar")
    assert [rule.rule for rule in decision.blocked_by] == ["full_moon"]
    assert "portal policy check" in decision.blocked_by[0].message


def test_a_nations_own_condition_is_policy_data(
    app, nations, make_user, make_request, ask, tmp_path
):
    policies = tmp_path / "policies"
    shutil.copytree(resource_dir("policies"), policies)
    with (policies / "conditions.csv").open("a") as extra:
        extra.write("p2, red-cedar, review, ethics_approval_given\n")
    with app.app_context(), session_scope() as session:
        assert load_files(session, policies) == (21 + 7, True)
        sources = set(session.exec(select(PolicyRule.source)))
        assert sources == {"roles.csv", "conditions.csv"}
        loaded = session.exec(select(AuditEvent).where(AuditEvent.action == "policy.loaded")).all()
        assert [event.details["lines"] for event in loaded] == [28], "one event per change"
        events_before = len(session.exec(select(AuditEvent)).all())
        assert load_files(session, policies) == (28, False)
        assert len(session.exec(select(AuditEvent)).all()) == events_before, "no change, no event"
    cedar = make_user("s1@example.org", ("steward", "red-cedar"))
    heron = make_user("s2@example.org", ("steward", "blue-heron"))
    request_id = make_request(["shared-welfare"], ethics_approval="")
    assert [rule.rule for rule in ask(cedar, "review", "red-cedar", request_id).blocked_by] == [
        "ethics_approval_given"
    ]
    assert ask(heron, "review", "blue-heron", request_id).allowed
