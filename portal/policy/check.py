"""`portal policy check`: lint policies/ before it is loaded.

Reports malformed lines, unknown roles, actions, conditions and Nations, parameters
a condition does not declare or cannot take, lines that can never match, conditions
no role can ever meet (unreachable), duplicate lines (a condition once per domain and
action, whatever its parameters), and lines that conflict with the sovereignty
invariants.
"""

from pathlib import Path

import casbin
from casbin.model import Model

from portal.auth.models import NATION_ROLES, Role
from portal.policy import parameters
from portal.policy.conditions import CONDITIONS, SIGNATURES
from portal.policy.enforcer import LinesAdapter, NationEnforcer, without_role_matching
from portal.policy.files import MODEL_FILE, PolicyLine, Problem, read_directory
from portal.policy.vocabulary import (
    ACTION_NAMES,
    DENIED_ACTIONS,
    DENIED_BECAUSE,
    REQUIRED_CONDITIONS,
    REQUIRED_GRANTS,
    RESERVED_ACTIONS,
    ROLE_NAMES,
    UNCONDITIONAL_ACTIONS,
    WILDCARD,
    Action,
    Scope,
)
from portal.registry.service import SLUG_PATTERN

EXPECTED_TOKENS = {
    ("r", "r"): ["r_sub", "r_dom", "r_act"],
    ("p", "p"): ["p_sub", "p_dom", "p_act"],
    ("p", "p2"): ["p2_dom", "p2_act", "p2_condition", "p2_params"],
}
# What any model must answer, checked on a tiny policy: (request, expected).
_SMOKE_LINES = [
    ("p", ("steward", WILDCARD, "review")),
    ("p", ("researcher", WILDCARD, "submit")),
    ("p", ("coordinator", "nation-a", "view_record")),
    ("g", ("user:1", "steward", "nation-a")),
    ("g", ("user:2", "researcher", WILDCARD)),
    ("g", ("user:3", "coordinator", WILDCARD)),
]
_SMOKE_CASES = [
    (("user:1", "nation-a", "review"), True, "a steward reviews in their own Nation"),
    (("user:1", "nation-b", "review"), False, "a steward of one Nation does not act in another"),
    (("user:1", WILDCARD, "review"), False, "a Nation's role does not hold portal-wide"),
    (("user:2", "nation-a", "submit"), True, "a portal-wide role holds in every Nation"),
    (("user:2", WILDCARD, "submit"), True, "a portal-wide role holds portal-wide"),
    (("user:2", "nation-a", "review"), False, "a role does only what its lines say"),
    (("user:3", "nation-a", "view_record"), True, "a line may name one Nation"),
    (("user:3", "nation-b", "view_record"), False, "a line naming one Nation holds only there"),
]


def check_model(path: Path) -> list[Problem]:
    if not path.is_file():
        return [Problem(path.name, "missing: the Casbin model is required")]
    try:
        model = Model()
        model.load_model(str(path))
    except Exception as error:  # pycasbin raises bare RuntimeErrors and parser errors
        return [Problem(path.name, f"cannot be parsed: {error}")]
    problems = []
    for (section, key), tokens in EXPECTED_TOKENS.items():
        found = model.model.get(section, {}).get(key)
        if found is None or found.tokens != tokens:
            want = ", ".join(t.split("_", 1)[1] for t in tokens)
            problems.append(Problem(path.name, f"{key} must be defined as: {key} = {want}"))
    role = model.model.get("g", {}).get("g")
    if role is None or role.value.replace(" ", "") != "_,_,_":
        problems.append(Problem(path.name, "g must be defined as: g = _, _, _"))
    for section, name in (("e", "policy_effect"), ("m", "matchers")):
        if section not in model.model:
            problems.append(Problem(path.name, f"the [{name}] section is missing"))
    if problems:
        return problems
    # Both the plain Enforcer (every line through the matcher) and ours (which looks
    # only in the asked domain's buckets) must give the answers ARCHITECTURE.md needs.
    try:
        enforcers = [
            without_role_matching(casbin.Enforcer(str(path), LinesAdapter(_SMOKE_LINES))),
            NationEnforcer(path, _SMOKE_LINES),
        ]
        answers = {
            (enforcer.enforce(*request), *case)
            for enforcer in enforcers
            for request, *case in _SMOKE_CASES
        }
    except Exception as error:
        return [Problem(path.name, f"the matcher cannot be evaluated: {error}")]
    return [
        Problem(path.name, f"the matcher is wrong: {rule} (expected {expected}, got {got})")
        for got, expected, rule in sorted(answers, key=lambda answer: answer[2])
        if got != expected
    ]


def _check_domain(line: PolicyLine, domain: str, known_nations: set[str] | None) -> list[str]:
    if domain == WILDCARD:
        return []
    if not SLUG_PATTERN.match(domain):
        return [f'{domain!r} is neither "*" nor a Nation slug']
    if known_nations is not None and domain not in known_nations:
        return [f"unknown Nation {domain!r}"]
    return []


MAX_VALUE = 200  # what a policy_rule column holds


def _check_line(line: PolicyLine, known_nations: set[str] | None) -> list[str]:
    """What is wrong with one line on its own."""
    if too_long := [value for value in line.values if len(value) > MAX_VALUE]:
        return [f"a value is longer than {MAX_VALUE} characters: {too_long[0][:40]}..."]
    if line.ptype.startswith("g"):
        return [
            "role assignments are not policy data: grant roles with `portal users grant` "
            "or on a Nation's governance profile page"
        ]
    if line.ptype not in ("p", "p2"):
        return [f"unknown line type {line.ptype!r} (expected p or p2)"]
    if len(line.values) not in ((3,) if line.ptype == "p" else (3, 4)):
        shape = (
            "p, role, domain, action"
            if line.ptype == "p"
            else "p2, domain, action, condition[, parameters]"
        )
        return [f"malformed line {line.text!r}: expected {shape}"]
    if line.ptype == "p":
        role, domain, action = line.values
        errors = [] if role in ROLE_NAMES else [f"unknown role {role!r}"]
    else:
        domain, action, name, *params = line.values
        errors = _check_condition(name, params[0] if params else "")
    errors += _check_domain(line, domain, known_nations)
    if action not in ACTION_NAMES:
        errors.append(f"unknown action {action!r}")
    return errors


def _check_condition(name: str, params: str) -> list[str]:
    """An unknown condition, or parameters it does not declare or cannot take."""
    if name not in CONDITIONS:
        return [f"unknown condition {name!r}"]
    found = parameters.problems(SIGNATURES[name].parameters, parameters.parse(params))
    return [f"{name}: {message}" for message in found.values()]


def _key(line: PolicyLine) -> tuple[str, tuple[str, ...]]:
    """What makes two lines the same: a condition line is one per condition, domain and
    action, whatever its parameters."""
    return line.ptype, line.values[:3]


def _never_matches(line: PolicyLine) -> str | None:
    role, domain, action = line.values
    if Action(action).scope is not Scope.PORTAL:
        return None
    if Role(role) in NATION_ROLES:
        return f"can never match: a {role} acts for one Nation, but {action} is asked portal-wide"
    if domain != WILDCARD:
        return f"can never match: {action} is asked portal-wide, never in a Nation's domain"
    return None


def _conflict(line: PolicyLine) -> str | None:
    if line.ptype == "p":
        role, _domain, action = line.values
        holders = RESERVED_ACTIONS.get(Action(action))
        if holders and Role(role) not in holders:
            only = " or ".join(sorted(holders))
            return f"conflicts with the sovereignty invariants: only a {only} may {action}"
        if Action(action) in DENIED_ACTIONS.get(Role(role), frozenset()):
            why = DENIED_BECAUSE[Role(role)]
            return f"conflicts with the roles: the {role} role is never given {action} ({why})"
    elif (action := Action(line.values[1])) in UNCONDITIONAL_ACTIONS:
        required = REQUIRED_CONDITIONS.get(action, frozenset())
        if line.values[2] not in required:
            but = ", ".join(sorted(required)) or "none"
            if action is Action.REFUSE:
                return (
                    f"conflicts with invariant 2: {action} is always possible, so it takes "
                    f"no condition but {but}"
                )
            return (
                f"conflicts with the sovereignty invariants: every Nation keeps the right to "
                f"{action}, so it takes no condition but {but}"
            )
    return None


def _unreachable(line: PolicyLine, grants: list[PolicyLine]) -> str | None:
    domain, action = line.values[:2]
    if Action(action).scope is Scope.PORTAL and domain != WILDCARD:
        return f"unreachable: {action} is asked portal-wide, never in {domain}'s domain"
    for grant in grants:
        _role, grant_domain, grant_action = grant.values
        if grant_action == action and WILDCARD in (domain, grant_domain):
            return None
        if grant_action == action and grant_domain == domain:
            return None
    where = "anywhere" if domain == WILDCARD else f"in {domain}"
    return f"unreachable: no role may {action} {where}, so the condition never applies"


def check_lines(lines: list[PolicyLine], known_nations: set[str] | None = None) -> list[Problem]:
    problems: list[Problem] = []
    valid: list[PolicyLine] = []
    seen: dict[tuple[str, tuple[str, ...]], PolicyLine] = {}
    for line in lines:
        errors = _check_line(line, known_nations)
        problems += [Problem(line.where, error) for error in errors]
        if errors:
            continue
        key = _key(line)
        if key in seen:
            problems.append(Problem(line.where, f"duplicate of {seen[key].where}"))
            continue
        seen[key] = line
        valid.append(line)
    # A Nation's own condition beside the same one for every Nation is no duplicate: both
    # apply (the stricter binds), and a change to either leaves the other alone.
    grants = [line for line in valid if line.ptype == "p"]
    for line in valid:
        found = _conflict(line) or (
            _never_matches(line) if line.ptype == "p" else _unreachable(line, grants)
        )
        if found:
            problems.append(Problem(line.where, found))
    everywhere = {
        line.values[1:3] for line in valid if line.ptype == "p2" and line.values[0] == WILDCARD
    }
    granted = {tuple(line.values) for line in grants}
    for action, roles in REQUIRED_GRANTS.items():
        for role in sorted(roles):
            if (role, WILDCARD, action.value) not in granted:
                problems.append(
                    Problem(
                        "policies",
                        f"every Nation's {role}s must keep the right to {action.value}: "
                        f"add p, {role}, *, {action}",
                    )
                )
    for action, names in REQUIRED_CONDITIONS.items():
        for name in sorted(names):
            if (action.value, name) not in everywhere:
                problems.append(
                    Problem(
                        "policies",
                        f"{action} must need {name} in every Nation: add p2, *, {action}, {name}",
                    )
                )
    return problems


def check_directory(directory: Path, known_nations: set[str] | None = None) -> list[Problem]:
    """Every problem in the model and policy files of ``directory`` (empty: all good)."""
    lines, problems = read_directory(directory)
    return check_model(directory / MODEL_FILE) + problems + check_lines(lines, known_nations)


def summary(lines: list[PolicyLine]) -> str:
    grants = [line for line in lines if line.ptype == "p"]
    conditions = [line for line in lines if line.ptype == "p2"]
    roles = {line.values[0] for line in grants}
    return (
        f"Policy is valid: {len(grants)} permission lines for {len(roles)} roles, "
        f"{len(conditions)} condition lines; the model answers as expected."
    )
