"""The command surface holds together: every command has a transition, every person's
command an API operation (in the blueprint's table and in the served OpenAPI document),
every policy action a transition asks a set of states it may start from; and
available() offers exactly what the table and the policy say, state by state."""

import inspect

import pytest
from sqlmodel import select

from portal.api import PREFIX
from portal.api.table import ENDPOINTS
from portal.db import session_scope
from portal.errors import Refused
from portal.requests.models import AccessRequest
from portal.workflow import commands as c
from portal.workflow.offers import available
from portal.workflow.table import ALLOWED_FROM, EXPIRE_FROM, TRANSITIONS

from flows import command

COMMANDS = [
    kind
    for _name, kind in inspect.getmembers(c, inspect.isclass)
    if issubclass(kind, c.Command) and kind is not c.Command and kind.__module__ == c.__name__
]
PERSONS = [kind for kind in COMMANDS if not kind.system]
REQUEST = "/requests/{ref}"


def operation(kind: type[c.Command]) -> tuple[str, str]:
    if kind is c.Edit:  # editing is PATCH on the request itself
        return "PATCH", REQUEST
    return "POST", f"{REQUEST}/actions/{kind.name}"


def test_the_commands_are_found():
    names = {kind.name for kind in COMMANDS}
    assert {"edit", "submit", "screen", "review", "decide", "sign", "expire"} <= names


@pytest.mark.parametrize("kind", COMMANDS, ids=lambda kind: kind.__name__)
def test_every_command_has_a_transition(kind):
    assert kind in TRANSITIONS, f"{kind.__name__} has no row in TRANSITIONS"
    assert TRANSITIONS[kind].command is kind and TRANSITIONS[kind].name == kind.name


@pytest.mark.parametrize("kind", PERSONS, ids=lambda kind: kind.__name__)
def test_every_persons_command_has_an_api_operation(kind):
    method, path = operation(kind)
    assert any(e.method == method and e.path == path for e in ENDPOINTS), (
        f"no {method} {path} in ENDPOINTS"
    )


def test_the_served_openapi_document_has_every_command(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for kind in PERSONS:
        method, path = operation(kind)
        documented = paths.get(PREFIX + path, {})
        assert method.lower() in documented, f"{method} {path} is not documented"
    actions = f"{PREFIX}{REQUEST}/actions/"
    served = {
        path.rsplit("/", 1)[1]
        for path, operations in paths.items()
        if path.startswith(actions) and "post" in operations
    }
    assert served == {kind.name for kind in PERSONS if kind is not c.Edit}, (
        "no operation for a system command or one without a command"
    )


def every_variant(kind: type[c.Command]) -> list[c.Command]:
    """The command as probed, and each outcome that asks its own policy action."""
    variants = [kind()]
    if kind is c.Decide:
        variants += [c.Decide(outcome="approve"), c.Decide(outcome="refuse")]
    if kind is c.Screen:
        variants += [c.Screen(outcome="accept"), c.Screen(outcome="return")]
    return variants


@pytest.mark.parametrize("kind", COMMANDS, ids=lambda kind: kind.__name__)
def test_every_policy_action_of_a_transition_has_its_states(kind):
    transition = TRANSITIONS[kind]
    for variant in every_variant(kind):
        action = transition.action(variant)
        if action is None:
            assert kind.system, "only the system's own step asks no policy action"
            assert transition.allowed_from(variant) == EXPIRE_FROM
            continue
        assert action in ALLOWED_FROM, f"{kind.__name__} asks {action}, not in ALLOWED_FROM"
        assert ALLOWED_FROM[action], f"{action} may start from no state"
    if transition.preview is not None:
        assert transition.action(transition.preview) in ALLOWED_FROM
    if transition.probe is not None:
        assert not kind.system and type(transition.probe) is kind


def test_decide_asks_approve_or_refuse_by_outcome():
    transition = TRANSITIONS[c.Decide]
    assert transition.action(c.Decide(outcome="approve")) == "approve"
    assert transition.action(c.Decide(outcome="refuse")) == "refuse"
    assert transition.action(transition.probe) == "refuse", "refusal is what is offered"


# --- available(), pinned --------------------------------------------------------------

CEDAR, HERON = "Red Cedar Nation (fictional)", "Blue Heron Métis (fictional)"
EVERYONE = [
    "researcher", "other_researcher", "coordinator", "admin", "cedar_steward1",
    "cedar_steward2", "cedar_rep", "heron_steward", "heron_rep",
]  # fmt: skip


def quorum(nation: str, needed: int, recorded: int) -> tuple[str, str]:
    reviews = "steward review" if needed == 1 else "steward reviews"
    return (
        "quorum_met",
        f"{nation} requires {needed} {reviews} of this revision; {recorded} recorded.",
    )


def approvals(nation: str, needed: int, recorded: int) -> tuple[str, str]:
    word = "steward recommendation" if needed == 1 else "steward recommendations"
    return (
        "min_approvals_met",
        f"{nation} requires {needed} {word} to approve this revision; {recorded} recorded.",
    )


def not_under_review(state: str) -> tuple[str, str]:
    """Before (or after) review, the state is what blocks approval: the conditions are
    not asked until it could happen."""
    label = state.replace("_", " ")
    return ("state", f"This request is {label}: it can be approved only when it is under review.")


def options(flow, ref: str) -> dict[str, list]:
    """Each person's options: (action, nation slug, [(rule, message), ...])."""
    found = {}
    with flow.app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        for who in EVERYONE:
            found[who] = [
                (
                    o.action,
                    o.nation.slug if o.nation else None,
                    [(rule.rule, rule.message) for rule in o.blocked_by],
                )
                for o in available(session, flow.user(session, who), request)
            ]
    return found


def only(**offered) -> dict[str, list]:
    return {who: offered.get(who, []) for who in EVERYONE}


def test_a_draft_is_its_researchers_alone(flow):
    ref = flow.draft()
    assert options(flow, ref) == only(
        researcher=[("edit", None, []), ("submit", None, []), ("withdraw", None, [])]
    )


def test_in_screening_the_coordinator_screens_and_each_nation_may_refuse(flow):
    ref = flow.draft()
    flow.do("researcher", "submit", ref)
    state = not_under_review("screening")
    assert options(flow, ref) == only(
        researcher=[("withdraw", None, [])],
        coordinator=[("screen", None, [])],
        cedar_rep=[("decide", "red-cedar", [state])],
        heron_rep=[("decide", "blue-heron", [state])],
    )


def test_under_review_decide_is_offered_with_what_blocks_approval(flow):
    ref = flow.to_review()
    assert options(flow, ref) == only(
        researcher=[("withdraw", None, [])],
        cedar_steward1=[("review", "red-cedar", [])],
        cedar_steward2=[("review", "red-cedar", [])],
        heron_steward=[("review", "blue-heron", [])],
        cedar_rep=[("decide", "red-cedar", [quorum(CEDAR, 2, 0), approvals(CEDAR, 1, 0)])],
        heron_rep=[("decide", "blue-heron", [quorum(HERON, 1, 0), approvals(HERON, 1, 0)])],
    )

    flow.do("cedar_steward1", "review", ref, "red-cedar")
    after_one = options(flow, ref)
    assert after_one["cedar_steward1"] == [], "one review per steward and revision"
    assert after_one["cedar_steward2"] == [("review", "red-cedar", [])]
    assert after_one["cedar_rep"] == [("decide", "red-cedar", [quorum(CEDAR, 2, 1)])]

    flow.do("cedar_steward2", "review", ref, "red-cedar", conflict_of_interest=True)
    assert options(flow, ref)["cedar_rep"] == [("decide", "red-cedar", [quorum(CEDAR, 2, 1)])], (
        "a declared conflict does not count"
    )


def test_at_the_quorum_with_too_few_approvals_only_min_approvals_blocks(app, flow):
    from portal.registry.service import get_nation

    with app.app_context(), session_scope() as session:
        get_nation(session, "red-cedar").min_approvals = 2
    ref = flow.to_review()
    flow.do("cedar_steward1", "review", ref, "red-cedar")
    flow.do("cedar_steward2", "review", ref, "red-cedar", recommendation="refuse", comment="no")
    assert options(flow, ref)["cedar_rep"] == [("decide", "red-cedar", [approvals(CEDAR, 2, 1)])]


def test_at_the_quorum_approval_is_open(flow):
    ref = flow.reviewed()
    offered = options(flow, ref)
    assert offered["cedar_rep"] == [("decide", "red-cedar", [])]
    assert offered["heron_rep"] == [("decide", "blue-heron", [])]
    assert offered["cedar_steward1"] == offered["heron_steward"] == []


def test_awaiting_signatures_refusal_stays_available_beside_signing_and_revoking(flow):
    ref = flow.approved()
    state = not_under_review("awaiting signatures")
    assert options(flow, ref) == only(
        researcher=[("withdraw", None, []), ("sign", None, [])],
        cedar_rep=[
            ("decide", "red-cedar", [state]),
            ("sign", "red-cedar", []),
            ("revoke", "red-cedar", []),
        ],
        heron_rep=[
            ("decide", "blue-heron", [state]),
            ("sign", "blue-heron", []),
            ("revoke", "blue-heron", []),
        ],
    )
    assert flow.do("cedar_rep", "decide", ref, "red-cedar", outcome="refuse", reason="no") == (
        "refused"
    )
    assert options(flow, ref) == only(), "a refused request offers no one anything"


def test_after_approving_the_offer_says_approval_is_done(flow):
    ref = flow.reviewed()
    flow.do("cedar_rep", "decide", ref, "red-cedar")
    with pytest.raises(Refused):
        flow.perform("cedar_rep", ref, command("decide", "red-cedar"))
    ((action, nation, blocked),) = options(flow, ref)["cedar_rep"]
    assert (action, nation) == ("decide", "red-cedar")
    assert [rule for rule, _message in blocked] == ["state"]
