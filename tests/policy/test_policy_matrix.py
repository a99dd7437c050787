"""Every role x every action x own Nation / other Nation / portal-wide, against the
real policies/ files (loaded into the test database as `portal policy load` does).

The table below is written out by hand from ARCHITECTURE.md's roles, not derived from
the files, so a change to the files that changes who may do what fails here.
"""

import pytest

from portal.auth.models import NATION_ROLES, Role, User
from portal.db import session_scope
from portal.policy.service import authorize
from portal.policy.vocabulary import Action, Scope
from portal.registry.service import get_nation

MAY = {
    Role.RESEARCHER: {
        "view", "create", "edit", "submit", "withdraw", "sign", "message_coordinators",
        "message_nation", "read_rules", "report_obligation", "close", "submit_output",
        "attest_destruction", "renew", "amend",
    },
    Role.COORDINATOR: {
        "view", "screen", "view_dashboard", "message_coordinators", "read_rules",
        "view_deliveries", "retry_delivery",
    },
    Role.ADMIN: {
        "manage_registry", "manage_users", "invite", "read_rules", "propose_rules", "manage_jobs",
    },
    Role.STEWARD: {
        "view", "review", "view_record", "message_nation", "discuss", "read_rules",
        "assess_obligation", "view_deliveries", "retry_delivery", "acknowledge_destruction",
        "review_output",
    },
    Role.REPRESENTATIVE: {
        "view", "approve", "refuse", "sign", "revoke", "manage_profile", "view_record",
        "invite_member", "message_nation", "discuss", "read_rules", "propose_rules",
        "vote_on_rules", "assess_obligation", "waive_obligation", "view_deliveries",
        "retry_delivery", "acknowledge_destruction", "decide_output", "label_datasets",
    },
}  # fmt: skip
OWN, OTHER, PORTAL = "own Nation", "other Nation", "portal-wide"
NATION_OF = {OWN: "red-cedar", OTHER: "blue-heron", PORTAL: None}


def expected(role: Role | None, action: Action, where: str) -> bool | type[ValueError]:
    if (action.scope is Scope.NATION and where == PORTAL) or (
        action.scope is Scope.PORTAL and where != PORTAL
    ):
        return ValueError  # asking so is a programming error, not a refusal
    if role is None or action.value not in MAY[role]:
        return False
    if role is Role.ADMIN and action is Action.PROPOSE_RULES:
        return where == PORTAL  # an administrator never proposes for a Nation
    return role not in NATION_ROLES or where == OWN


def answer(session, user, action: Action, where: str) -> bool | type[ValueError]:
    nation = get_nation(session, NATION_OF[where]) if NATION_OF[where] else None
    try:
        decision = authorize(session, user, action, nation=nation)
    except ValueError:
        return ValueError
    role_rules = [rule for rule in decision.blocked_by if rule.rule == "role"]
    if role_rules:
        assert decision.blocked_by == role_rules, "a role refusal reveals no conditions"
        assert not decision.allowed
    return not role_rules


@pytest.mark.parametrize("role", [*Role, None], ids=lambda role: role.value if role else "no role")
def test_who_may_do_what_where(app, nations, make_user, role):
    grants = [] if role is None else [(role.value, "red-cedar") if role.per_nation else role.value]
    user_id = make_user("person@example.org", *grants)
    mismatches = []
    with app.app_context(), session_scope() as session:
        user = session.get(User, user_id)
        for action in Action:
            for where in (OWN, OTHER, PORTAL):
                want, got = expected(role, action, where), answer(session, user, action, where)
                if want != got:
                    mismatches.append(f"{action} {where}: expected {want}, got {got}")
    assert mismatches == []


def test_the_table_covers_the_whole_vocabulary():
    assert set().union(*MAY.values()) == {action.value for action in Action}
