"""authorize(): may this person do this action, in this Nation, on this request, and if
not, which rules stand in the way. Pages, the API, the CLI and the workflow all ask here.

An action is allowed when the enforcer allows one of the person's roles in the
Nation's domain (or portal-wide), and every condition the policy attaches to the
action in that domain holds. Whose request it is, and whether it touches the
person's Nation, the workflow checks itself (roles_in() helps).

The invariants do not rest on the policy rows alone: `portal policy check` refuses
files that break them, and authorize() holds them even against a row that slipped
into the database some other way. Only the roles named in RESERVED_ACTIONS (held
in the Nation itself) may approve, refuse, revoke, review or manage a profile;
approval always needs REQUIRED_CONDITIONS; refusal never needs any condition.
"""

from dataclasses import dataclass, field

from sqlmodel import Session, select

from portal.auth.models import NATION_ROLES, Role, RoleMembership, User
from portal.errors import BlockingRule, Refused
from portal.policy.conditions import CONDITIONS, Facts
from portal.policy.enforcer import LoadedPolicy
from portal.policy.store import current_policy
from portal.policy.vocabulary import (
    REQUIRED_CONDITIONS,
    RESERVED_ACTIONS,
    UNCONDITIONAL_ACTIONS,
    WILDCARD,
    Action,
    Scope,
    subject,
)
from portal.registry.models import Nation
from portal.requests.models import AccessRequest

# Rules that say "not you" rather than "not now": callers answer them with 403, the
# others (state, a Nation's conditions) with 409.
FORBIDDING_RULES = frozenset({"role", "account"})


@dataclass(frozen=True)
class PolicyDecision:
    allowed: bool
    blocked_by: list[BlockingRule] = field(default_factory=list)

    @property
    def forbidden_by(self) -> BlockingRule | None:
        """The rule that forbids this person the action outright, if one does."""
        return next((rule for rule in self.blocked_by if rule.rule in FORBIDDING_RULES), None)

    def as_problem(self) -> list[dict[str, str]]:
        """``blocked_by`` as the API returns it."""
        return [{"rule": rule.rule, "message": rule.message} for rule in self.blocked_by]


def _action(action: Action | str, nation: Nation | None) -> Action:
    try:
        action = Action(action)
    except ValueError:
        raise ValueError(f"unknown action {action!r}") from None
    if action.scope is Scope.NATION and nation is None:
        raise ValueError(f"{action} is decided for one Nation: pass nation=")
    if action.scope is Scope.PORTAL and nation is not None:
        raise ValueError(f"{action} is portal-wide: do not pass a Nation")
    return action


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def role_refusal(policy: LoadedPolicy, action: Action, nation: Nation | None) -> BlockingRule:
    """Which roles could do it here, said in a sentence."""
    domain = nation.slug if nation else WILDCARD
    granted = {Role(role) for role, _ in policy.grants_in(domain, action)}
    holders = [
        f"a {role} of {nation.name}" if role in NATION_ROLES else f"{_article(role)} {role}"
        for role in Role
        if role in granted and (nation is not None or role not in NATION_ROLES)
    ]
    if not holders:
        where = f" for {nation.name}" if nation else ""
        message = f"No one may {action.value.replace('_', ' ')}{where} under the current policy."
    else:
        message = f"Only {_join(holders)} may {action.phrase}."
    return BlockingRule(rule="role", message=message)


def _conditions(policy: LoadedPolicy, domain: str, action: Action) -> list[str]:
    if action in UNCONDITIONAL_ACTIONS:
        return []
    names = policy.conditions_for(domain, action)
    return names + sorted(REQUIRED_CONDITIONS.get(action, frozenset()) - set(names))


def authorize(
    session: Session,
    user: User,
    action: Action | str,
    *,
    nation: Nation | None = None,
    request: AccessRequest | None = None,
) -> PolicyDecision:
    """Decide, and say why not. Asking for a Nation-scoped action without a Nation
    (or a portal-wide one with a Nation) is a programming error: ValueError."""
    action = _action(action, nation)
    if not user.active:
        return PolicyDecision(False, [BlockingRule("account", "This account is deactivated.")])
    policy = current_policy(session)
    domain = nation.slug if nation else WILDCARD
    who = subject(user.id)
    reserved_for = RESERVED_ACTIONS.get(action)
    if not policy.allows(who, domain, action) or (
        reserved_for and not any(policy.holds(who, role, domain) for role in reserved_for)
    ):
        # The conditions are not evaluated: they would tell someone who may not act
        # about the state of a Nation's review.
        return PolicyDecision(False, [role_refusal(policy, action, nation)])
    facts = Facts(session=session, nation=nation, request=request)
    blocked = []
    for name in _conditions(policy, domain, action):
        check = CONDITIONS.get(name)
        if check is None:  # a row the portal cannot evaluate never lets anything through
            message = (
                f"The governance rule {name!r} is not known to this portal; "
                "an administrator should run `portal policy check`."
            )
            blocked.append(BlockingRule(rule=name, message=message))
        elif (rule := check(facts)) is not None:
            blocked.append(rule)
    return PolicyDecision(not blocked, blocked)


def require(
    session: Session,
    user: User,
    action: Action | str,
    *,
    nation: Nation | None = None,
    request: AccessRequest | None = None,
) -> None:
    """authorize(), raising Refused with the blocking rules when not allowed."""
    decision = authorize(session, user, action, nation=nation, request=request)
    if not decision.allowed:
        message = " ".join(rule.message for rule in decision.blocked_by)
        raise Refused(message, decision.blocked_by)


def explain(
    session: Session,
    user: User,
    action: Action | str,
    *,
    nation: Nation | None = None,
    request: AccessRequest | None = None,
) -> list[str]:
    """What stands in the way, one sentence per rule, for a page to list (empty: allowed)."""
    decision = authorize(session, user, action, nation=nation, request=request)
    return [rule.message for rule in decision.blocked_by]


def roles_in(session: Session, user: User, nation: Nation | None) -> set[Role]:
    """The roles ``user`` holds there: portal-wide ones, and the Nation's own."""
    query = select(RoleMembership.role).where(RoleMembership.user_id == user.id)
    if nation is None:
        query = query.where(RoleMembership.nation_id.is_(None))
    else:
        query = query.where(
            (RoleMembership.nation_id.is_(None)) | (RoleMembership.nation_id == nation.id)
        )
    return set(session.exec(query))
