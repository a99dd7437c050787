"""What a person may do now, from the transition table: the checks perform() makes
before it acts, asked without acting. It drives the buttons on the pages, the home
page's queues, the API's ``allowed_actions`` and who is mailed to act next."""

from dataclasses import dataclass, field, replace

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from portal.agreements import parties
from portal.auth.models import User
from portal.errors import BlockingRule, Forbidden, NotFound, Refused, ValidationError
from portal.lifecycle import service as lifecycle
from portal.policy.access import holders_reaching, may_view
from portal.policy.service import PolicyDecision, authorize
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.workflow.commands import Command
from portal.workflow.context import Context, refuse
from portal.workflow.table import TRANSITIONS, NationArg, Transition, transition_for

PAST = {
    "edit": _l("edited"),
    "submit": _l("submitted"),
    "withdraw": _l("withdrawn"),
    "screen": _l("screened"),
    "review": _l("reviewed"),
    "approve": _l("approved"),
    "refuse": _l("refused"),
    "sign": _l("signed"),
    "revoke": _l("revoked"),
    "expire": _l("expired"),
    "message_coordinators": _l("discussed"),
    "message_nation": _l("discussed"),
    "discuss": _l("discussed"),
    "report_obligation": _l("reported on"),
    "assess_obligation": _l("assessed"),
    "waive_obligation": _l("waived"),
    "close": _l("closed early"),
    "attest_destruction": _l("attested"),
    "acknowledge_destruction": _l("acknowledged"),
    "submit_output": _l("sent outputs for review"),
    "review_output": _l("the subject of output reviews"),
    "decide_output": _l("the subject of output decisions"),
    "renew": _l("renewed"),
    "amend": _l("amended"),
}


@dataclass(frozen=True)
class Option:
    """Something a person may do now: an action (a command's name), for a Nation or
    not, and the rules that would still block it (e.g. approval before quorum)."""

    action: str
    nation: Nation | None = None
    blocked_by: tuple[BlockingRule, ...] = field(default=())
    obligation: int | None = None  # the obligation it is done on (report, assess)


def gate(ctx: Context, transition: Transition, command: Command) -> PolicyDecision:
    """Who (Forbidden, 403), then when (Refused on the state or the guard, 409). Returns
    the policy's decision, whose conditions the caller checks after the input."""
    action = transition.action(command)
    if action is None:
        if ctx.actor is not None:
            raise Forbidden(_("Only the portal itself ends access at the end of the term."))
        decision = PolicyDecision(True)
    else:
        decision = authorize(ctx.session, ctx.actor, action, nation=ctx.nation, request=ctx.request)
        if forbidden := decision.forbidden_by:
            raise Forbidden(forbidden.message, [forbidden])
    if not transition.allows_state(command, ctx.request):
        allowed = transition.allowed_from(command)
        state = transition.state(command, ctx.request)
        states = ", ".join(sorted(s.label.lower() for s in allowed))
        verb = PAST[action.value if action else "expire"]
        words = {"state": state.label.lower(), "verb": verb, "states": states}
        if state is not ctx.request.status:
            message = _(
                "Its amendment is %(state)s: it can be %(verb)s only when it is %(states)s.",
                **words,
            )
        else:
            message = _(
                "This request is %(state)s: it can be %(verb)s only when it is %(states)s.", **words
            )
        raise refuse("state", message)
    if transition.guard is not None and (rule := transition.guard(ctx, command)) is not None:
        raise Refused(rule.message, [rule])
    return decision


def _candidates(session: Session, transition: Transition, request: AccessRequest):
    if transition.nation is NationArg.NONE:
        return [None]
    if transition.nation is NationArg.PARTY:
        return [party.nation for party in parties.parties_of(session, request)]
    if transition.nation is NationArg.OBLIGATION:
        return lifecycle.of_request(session, request)
    return parties.nations_concerned(session, request)


def _offer(
    session: Session,
    actor: User,
    request: AccessRequest,
    transition: Transition,
    nation,
    *,
    seen: bool = False,
    command: Command | None = None,
) -> Option | None:
    # The state is asked first here, where only yes or no is wanted: it costs nothing,
    # and most of the table's steps are not open in a given state (gate() asks who first,
    # so that a refusal names the right reason, and words it).
    probe = command or transition.probe
    if transition.nation is not NationArg.OBLIGATION and not transition.allows_state(
        probe, request
    ):
        return None
    try:
        return _option(session, actor, request, transition, nation, seen=seen, command=command)
    except (NotFound, Forbidden, Refused, ValidationError):
        return None


def _option(
    session: Session,
    actor: User,
    request: AccessRequest,
    transition: Transition,
    nation,
    *,
    seen: bool = False,
    command: Command | None = None,
) -> Option:
    """The option, or the refusal (NotFound, Forbidden, Refused) that says why there is
    none. Nobody is offered a step on a request they may not see (perform() would not
    find it): ``seen`` says the caller checked that already. ``command`` asks about one
    object of the step (an output) rather than the table's probe."""
    if not seen and not may_view(session, actor, request):
        raise NotFound(_("no request %(ref)s", ref=request.ref))
    if transition.nation is NationArg.OBLIGATION:
        return _obligation_option(session, actor, request, transition, nation)
    ctx = Context(session, actor, request, nation)
    command = command or transition.probe
    if transition.prepare is not None:
        transition.prepare(ctx, command)
        if ctx.nation != nation:  # that place is not this person's to sign
            raise Forbidden(_("You do not sign for that party."))
    decision = gate(ctx, transition, command)
    blocked = list(decision.blocked_by)
    if transition.preview is not None:  # what still blocks the fuller step (approval)
        blocked = _blockers(ctx, transition, transition.preview)
    return Option(transition.name, ctx.nation, tuple(blocked))


def _obligation_option(
    session: Session, actor: User, request: AccessRequest, transition: Transition, obligation
) -> Option:
    """The step on one obligation: its probe, else its fallback (a representative may
    waive an obligation nothing was reported on yet). When neither is open, the refusal
    says why as gate() does, who before when: someone whom a probe lets act (a steward
    may assess) reads what stops them now (409: the request is closed, nothing is
    reported yet), never that another probe is not theirs (only a representative
    waives); someone no probe lets act reads the first probe's refusal (403)."""
    probes = [p for p in (transition.probe, transition.fallback) if p is not None]
    refusals: list[Forbidden | Refused] = []
    for probe in probes:
        ctx = Context(session, actor, request)
        command = replace(probe, obligation=obligation.id)
        transition.prepare(ctx, command)
        try:
            gate(ctx, transition, command)
        except (Forbidden, Refused) as refusal:
            refusals.append(refusal)
            continue
        return Option(transition.name, ctx.nation, (), obligation=obligation.id)
    if not refusals:
        raise AssertionError("a transition on obligations has a probe")
    raise next((r for r in refusals if isinstance(r, Refused)), refusals[0])


def _blockers(ctx: Context, transition: Transition, command: Command) -> list[BlockingRule]:
    """Every rule that would stop ``command`` now, as perform() would ask them (who,
    state, the step's guard, the governance conditions), without its input checks."""
    try:
        return list(gate(ctx, transition, command).blocked_by)
    except (Forbidden, Refused) as refusal:
        return list(refusal.blocked_by) or [BlockingRule("state", refusal.message)]


def available(session: Session, actor: User, request: AccessRequest) -> list[Option]:
    """Everything ``actor`` may do on ``request`` now (system steps aside)."""
    if not may_view(session, actor, request):
        return []
    return [
        option
        for transition in TRANSITIONS.values()
        if transition.probe is not None
        for option in _offers(session, actor, request, transition)
    ]


def offered(session: Session, actor: User, request: AccessRequest, name: str) -> list[Option]:
    """What ``available()`` offers of one action (one option per Nation or party it may
    be done for), without asking about the others."""
    if not may_view(session, actor, request):
        return []
    return _offers(session, actor, request, _transition(name))


def _offers(session: Session, actor: User, request: AccessRequest, transition: Transition):
    options = (
        _offer(session, actor, request, transition, nation, seen=True)
        for nation in _candidates(session, transition, request)
    )
    return [option for option in options if option is not None]


def may(
    session: Session, actor: User, request: AccessRequest, name: str, nation: Nation | None = None
) -> Option | None:
    """The option to do ``name`` (for ``nation``) now, if ``actor`` has it."""
    return _offer(session, actor, request, _transition(name), nation)


def may_do(
    session: Session, actor: User, request: AccessRequest, command: Command, nation: Nation
) -> Option | None:
    """The option to do ``command`` (naming its object, e.g. an output) for ``nation``
    now, if ``actor`` has it: who, the state and the step's guard, not its input."""
    transition = transition_for(command)
    return _offer(session, actor, request, transition, nation, command=command)


def check(
    session: Session,
    actor: User,
    request: AccessRequest,
    name: str,
    nation: Nation | None = None,
    *,
    obligation=None,
) -> Option:
    """Like ``may``, but raising the refusal that says why not (for a page to show).
    ``obligation``: the one a step on obligations is done on."""
    return _option(session, actor, request, _transition(name), obligation or nation)


def _transition(name: str) -> Transition:
    return next(t for t in TRANSITIONS.values() if t.name == name)


def who_may(
    session: Session,
    request: AccessRequest,
    name: str,
    nation: Nation | None = None,
    *,
    obligation=None,
) -> list[User]:
    """The people who may do ``name`` (for ``nation``, or on ``obligation``: a step on
    obligations) on ``request`` now."""
    transition = _transition(name)
    asked = transition.action(transition.probe)
    people = holders_reaching(session, request, asked, nation)
    target = nation if obligation is None else obligation
    return [person for person in people if _offer(session, person, request, transition, target)]
