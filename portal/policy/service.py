"""authorize(): may this person do this action, in this Nation, on this request, and if
not, which rules stand in the way. Pages, the API, the CLI and the workflow all ask here.

An action is allowed when the enforcer allows one of the person's roles in the
Nation's domain (or portal-wide) and reaches the request (whose it is, whose data it
touches: policy.access), and every condition the policy attaches to the action in
that domain holds.

The invariants do not rest on the policy rows alone: `portal policy check` refuses
files that break them, and authorize() holds them even against a row that slipped
into the database some other way. Only the roles named in RESERVED_ACTIONS (held
in the Nation itself) may approve, refuse, revoke, review or manage a profile;
no portal-wide role does what DENIED_ACTIONS denies it (the administrator views no
request); approval always needs REQUIRED_CONDITIONS; refusal needs nothing but that the person
is not on the requesting side (invariant 10).
"""

from dataclasses import dataclass, field

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlmodel import Session

from portal.auth.models import NATION_ROLES, Role, User
from portal.errors import BlockingRule, Forbidden, Refused
from portal.policy.access import Holding, grants, holdings, reaches, request_nation_ids
from portal.policy.conditions import CONDITIONS, Facts
from portal.policy.enforcer import LoadedPolicy, Named
from portal.policy.store import current_policy
from portal.policy.vocabulary import (
    DENIED_ACTIONS,
    NOT_OWN_REQUEST,
    NOT_OWN_SCREENING,
    REQUIRED_CONDITIONS,
    RESERVED_ACTIONS,
    ROLE_REACH,
    UNCONDITIONAL_ACTIONS,
    WILDCARD,
    Action,
    Reach,
    Scope,
)
from portal.registry.models import Nation
from portal.requests.models import AccessRequest, RequestStatus

# Rules that say "not you" rather than "not now": callers answer them with 403, the
# others (state, a Nation's conditions) with 409.
FORBIDDING_RULES = frozenset({"role", "account", NOT_OWN_REQUEST, NOT_OWN_SCREENING})


@dataclass(frozen=True)
class PolicyDecision:
    allowed: bool
    blocked_by: list[BlockingRule] = field(default_factory=list)

    @property
    def forbidden_by(self) -> BlockingRule | None:
        """The rule that forbids this person the action outright, if one does."""
        return next((rule for rule in self.blocked_by if rule.rule in FORBIDDING_RULES), None)

    def raise_if_refused(self) -> None:
        """The one mapping of a refusal onto the errors every adapter answers."""
        if self.allowed:
            return
        if forbidden := self.forbidden_by:
            raise Forbidden(forbidden.message, [forbidden])
        raise Refused(" ".join(rule.message for rule in self.blocked_by), self.blocked_by)


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


def _holder(role: Role, nation: Nation | None) -> str:
    """Someone who holds ``role`` (of ``nation``, for a role held in a Nation)."""
    if role is Role.STEWARD and nation is not None:
        return _("a steward of %(nation)s", nation=nation.name)
    if role is Role.REPRESENTATIVE and nation is not None:
        return _("a representative of %(nation)s", nation=nation.name)
    if role is Role.RESEARCHER:
        return _("a researcher")
    if role is Role.COORDINATOR:
        return _("a coordinator")
    if role is Role.ADMIN:
        return _("an admin")
    return f"{'an' if role[0] in 'aeiou' else 'a'} {role}"


def _join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return _("%(items)s or %(last)s", items=", ".join(items[:-1]), last=items[-1])


def role_refusal(policy: LoadedPolicy, action: Action, nation: Nation | None) -> BlockingRule:
    """Which roles could do it here, said in a sentence (worded once per policy)."""
    key = (action, nation and (nation.id, nation.name), str(get_locale()))
    if (found := policy.refusals.get(key)) is None:
        found = policy.refusals[key] = _role_refusal(policy, action, nation)
    return found


def _role_refusal(policy: LoadedPolicy, action: Action, nation: Nation | None) -> BlockingRule:
    domain = nation.slug if nation else WILDCARD
    granted = {Role(role) for role, _role in policy.grants_in(domain, action)}
    holders = [
        _holder(role, nation)
        for role in Role
        if role in granted and (nation is not None or role not in NATION_ROLES)
    ]
    if not holders and nation is not None:
        message = _(
            "No one may %(action)s for %(nation)s under the current policy.",
            action=action.name_words,
            nation=nation.name,
        )
    elif not holders:
        message = _("No one may %(action)s under the current policy.", action=action.name_words)
    else:
        message = _(
            "Only %(holders)s may %(phrase)s.", holders=_join(holders), phrase=action.phrase
        )
    return BlockingRule(rule="role", message=message)


def _conditions(policy: LoadedPolicy, domain: str, action: Action) -> list[Named]:
    """The conditions to check, each with its parameters: the policy's, and those the
    invariants require whatever the policy says."""
    required = REQUIRED_CONDITIONS.get(action, frozenset())
    named = policy.conditions_for(domain, action)
    if action in UNCONDITIONAL_ACTIONS:  # only what every such action must need
        named = [(name, params) for name, params in named if name in required]
    present = {name for name, _params in named}
    return named + [(name, {}) for name in sorted(required - present)]


def _reach_refusal(acting: list[Holding], request: AccessRequest) -> BlockingRule:
    """Why none of the roles that grant the action reaches this request."""
    reach = {ROLE_REACH[holding.role] for holding in acting}
    if Reach.OWN in reach:
        message = _("Only the researcher who filed this request may do this.")
    elif request.status == RequestStatus.DRAFT:
        message = _("A draft is its researcher's alone until it is submitted.")
    else:
        message = _("This request does not touch the data of the Nation you act for.")
    return BlockingRule(rule="role", message=message)


def authorize(
    session: Session,
    user: User,
    action: Action | str,
    *,
    nation: Nation | None = None,
    request: AccessRequest | None = None,
) -> PolicyDecision:
    """Decide, and say why not. Asking for a Nation-scoped action without a Nation
    (or a portal-wide one with a Nation) is a programming error: ValueError.

    First who (403): a role the person holds where it applies, granted the action
    by the policy, reaching ``request`` (policy.access). Then the conditions the
    policy attaches to the action in that domain (409, or 403 for those that say
    "not you", such as not_own_request)."""
    action = _action(action, nation)
    if not user.active:
        return PolicyDecision(False, [BlockingRule("account", _("This account is deactivated."))])
    policy = current_policy(session)
    domain = nation.slug if nation else WILDCARD
    acting = [
        h
        for h in holdings(session, user)
        if grants(policy, h, action, domain) and action not in DENIED_ACTIONS.get(h.role, ())
    ]
    if reserved_for := RESERVED_ACTIONS.get(action):
        # Held in the Nation itself, never through a portal-wide role (invariant 1).
        acting = [h for h in acting if h.role in reserved_for and h.domain == domain]
    if not acting:
        # The conditions are not evaluated: they would tell someone who may not act
        # about the state of a Nation's review.
        return PolicyDecision(False, [role_refusal(policy, action, nation)])
    if request is not None:
        nation_ids = request_nation_ids(session, request)
        reaching = [h for h in acting if reaches(h, request, nation_ids)]
        if not reaching:
            return PolicyDecision(False, [_reach_refusal(acting, request)])
    facts = Facts(session=session, nation=nation, request=request, user=user)
    blocked = []
    for name, params in _conditions(policy, domain, action):
        check = CONDITIONS.get(name)
        if check is None:  # a row the portal cannot evaluate never lets anything through
            message = _(
                "The governance rule %(name)s is not known to this portal; "
                "an administrator should run `portal policy check`.",
                name=repr(name),
            )
            blocked.append(BlockingRule(rule=name, message=message))
        elif (rule := check(facts, params)) is not None:
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
    """authorize(), raising when not allowed: Forbidden for "not you" (403), Refused with
    the blocking rules for "not now" (409)."""
    authorize(session, user, action, nation=nation, request=request).raise_if_refused()


def reads_deliberations(
    session: Session, viewer: User, request: AccessRequest, nation: Nation
) -> bool:
    """Whether ``viewer`` reads ``nation``'s deliberations on ``request`` (invariant 9):
    its reviews, conflicts and whether its stewards can still reach its quorum. Only the
    Nation's own people (its record's readers) do, and none of them on a request they
    are on (invariant 10: no one reads their own judging)."""
    if request.involves(viewer.id, viewer.email):
        return False
    return authorize(session, viewer, Action.VIEW_RECORD, nation=nation).allowed
