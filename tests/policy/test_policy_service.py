"""authorize(), require(), explain() and roles_in(): the answers and their reasons."""

import pytest

from portal.auth.models import User
from portal.db import session_scope
from portal.errors import BlockingRule, Refused
from portal.policy import service as policy
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
        decision = policy.authorize(session, user, "approve", nation=nation, request=request)
        assert decision.blocked_by == refused.value.blocked_by
        assert decision.blocked_by[2] == BlockingRule(
            "storage_in_jurisdiction",
            f"{CEDAR} requires the data to be stored in CA; this request would store it in US.",
        )
        policy.require(session, user, "refuse", nation=nation, request=request)  # no exception
        refusal = policy.authorize(session, user, "refuse", nation=nation, request=request)
        assert refusal.allowed and refusal.blocked_by == []


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


def test_a_role_refusal_is_worded_once_per_policy_in_each_language_and_name(
    app, nations, make_user, ask
):
    """Pages ask and discard many refusals, so each is worded once per loaded policy; the
    sentence still follows the language spoken and the Nation's name of the moment."""
    from flask_babel import force_locale

    from portal.policy.store import current_policy

    steward = make_user("s@example.org", ("steward", "red-cedar"))
    coordinator = make_user("c@example.org", "coordinator")
    first, again = ask(steward, "screen").blocked_by, ask(steward, "screen").blocked_by
    assert first == [BlockingRule("role", "Only a coordinator may screen requests.")]
    assert again[0] is first[0]  # worded once
    with app.test_request_context(), force_locale("fr_CA"), session_scope() as session:
        assert current_policy(session).refusals  # the English wording is kept here
        french = policy.authorize(session, session.get(User, steward), "screen").blocked_by
        assert french[0].message.startswith("Il faut être un coordonnateur pour ")
    with app.app_context(), session_scope() as session:
        get_nation(session, "red-cedar").name = "Cedar Renamed (fictional)"
    message = ask(coordinator, "approve", "red-cedar").blocked_by[0].message
    assert message == "Only a representative of Cedar Renamed (fictional) may approve for it."
    assert ask(steward, "screen").blocked_by == first  # English again, outside the French
