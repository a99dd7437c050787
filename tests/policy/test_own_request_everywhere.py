"""No one judges their own request (invariant 10), for the steps a probe found open:
a coordinator on a request's requesting side screened it, and the portal-wide rules
could drop ``not_own_request`` from assessing and waiving obligations, after which a
researcher made a Nation's steward assessed the obligations of their own request. Both
are now conditions the invariants require, whatever the rules in force say."""

import pytest
from sqlmodel import delete, select

from portal.db import session_scope
from portal.errors import Forbidden
from portal.policy import versions
from portal.policy.models import PolicyRule, RulesOrigin
from portal.policy.store import bump_version
from portal.policy.versions import RulesInvalid
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest
from portal.workflow.offers import available
from portal.workflow.profiles import designate_steward

from obligated import YEARLY, Obligated

COORDINATOR = "coordinator@example.org"
ON_THE_TEAM = [
    {"name": "Robin Researcher", "email": "robin@example.org", "role": "PI"},
    {"name": "Casey Coordinator", "email": COORDINATOR, "role": "analyst"},
]


def _offered(flow, who: str, ref: str) -> set[str]:
    with flow.app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        return {option.action for option in available(session, flow.user(session, who), request)}


def test_a_coordinator_on_the_requesting_side_cannot_screen_it(flow, make_user):
    ref = flow.draft(team=ON_THE_TEAM)
    flow.do("researcher", "submit", ref)
    assert "screen" not in _offered(flow, "coordinator", ref)
    with pytest.raises(Forbidden) as refused:
        flow.do("coordinator", "screen", ref)
    assert [rule.rule for rule in refused.value.blocked_by] == ["not_own_screening"]
    assert "you cannot screen it" in refused.value.message
    assert flow.status(ref) == "screening", "a refused step changes nothing"
    make_user("second.coordinator@example.org", "coordinator")
    assert "screen" in _offered(flow, "second.coordinator@example.org", ref)
    flow.do("second.coordinator@example.org", "screen", ref)
    assert flow.status(ref) == "under_review"


def test_the_researcher_as_coordinator_cannot_screen_their_own(flow, make_user):
    make_user("both@example.org", "researcher", "coordinator")
    ref = flow.draft("both@example.org")
    flow.do("both@example.org", "submit", ref)
    with pytest.raises(Forbidden):
        flow.do("both@example.org", "screen", ref)
    flow.do("coordinator", "screen", ref)  # anyone else on the coordinators' side may


OBLIGATION_LINES = [
    ["p2", "*", "assess_obligation", "not_own_request"],
    ["p2", "*", "waive_obligation", "not_own_request"],
]


@pytest.mark.parametrize("line", [*OBLIGATION_LINES, ["p2", "*", "screen", "not_own_screening"]])
def test_no_rule_change_drops_a_condition_the_invariant_requires(app, line):
    with app.app_context(), session_scope() as session, pytest.raises(RulesInvalid) as refused:
        versions.install(
            session,
            {"lines": {"add": [], "remove": [line]}},
            origin=RulesOrigin.PROPOSAL,
            summary="Drop a separation of duties",
        )
    assert f"{line[2]} must need {line[3]} in every Nation" in str(refused.value)


def test_a_researcher_made_steward_never_assesses_their_own_obligations(app, flow, make_user):
    """The rows as they would stand had the rules dropped the lines (a database edited
    by hand, or rules from before): the invariant still holds at every step."""
    owed = Obligated(app, flow, make_user)
    ref = owed.active()
    with app.app_context(), session_scope() as session:
        cedar, rep = get_nation(session, "red-cedar"), owed.flow.user(session, "cedar_rep")
        designate_steward(session, rep, cedar, "researcher@example.org")
        for _ptype, _domain, action, name in OBLIGATION_LINES:
            session.exec(
                delete(PolicyRule).where(
                    PolicyRule.ptype == "p2", PolicyRule.v1 == action, PolicyRule.v2 == name
                )
            )
        bump_version(session)
    owed.due_soon(ref, YEARLY)  # its report is taken now
    owed.report("researcher", ref, YEARLY, "Our year's report.")
    with pytest.raises(Forbidden) as refused:
        owed.assess("researcher", ref, YEARLY, "met")
    assert refused.value.blocked_by[0].rule == "not_own_request"
    with pytest.raises(Forbidden):
        owed.assess("researcher", ref, YEARLY, "waived", comment="Ours to let go.")
