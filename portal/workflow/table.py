"""The one transition table: for each command, the policy action asked, the states it
may run from, whether it acts for a Nation, and its guard, input check and handler.

perform() reads it to act and available() to say what a person may do now, so the
buttons, the queues, the API's allowed_actions and the mail recipients all follow it.
A test fails if a command type has no row here or no API operation.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from portal.errors import BlockingRule
from portal.policy.vocabulary import Action
from portal.requests.models import AccessRequest, RequestStatus
from portal.workflow import (
    amending,
    deciding,
    drafting,
    ending,
    messaging,
    obligations,
    outputs,
    signing,
)
from portal.workflow import commands as c
from portal.workflow.commands import Command
from portal.workflow.context import EDITING, Context

S = RequestStatus

# Where each policy action may start from. Anything else is refused with rule "state".
ALLOWED_FROM: dict[Action, frozenset[RequestStatus]] = {
    Action.EDIT: EDITING,
    Action.SUBMIT: frozenset({S.DRAFT, S.CHANGES_REQUESTED}),
    Action.WITHDRAW: frozenset(
        {S.DRAFT, S.SCREENING, S.CHANGES_REQUESTED, S.UNDER_REVIEW, S.AWAITING_SIGNATURES}
    ),
    Action.SCREEN: frozenset({S.SCREENING}),
    Action.REVIEW: frozenset({S.UNDER_REVIEW}),
    Action.APPROVE: frozenset({S.UNDER_REVIEW}),
    # Refusal is possible from submission until access begins (after approval too).
    Action.REFUSE: frozenset(
        {S.SCREENING, S.CHANGES_REQUESTED, S.UNDER_REVIEW, S.AWAITING_SIGNATURES}
    ),
    Action.SIGN: frozenset({S.AWAITING_SIGNATURES}),
    Action.REVOKE: frozenset({S.AWAITING_SIGNATURES, S.ACTIVE}),
    # Conversations open with the submission and never close; they change no state.
    Action.MESSAGE_COORDINATORS: messaging.OPEN_STATES,
    Action.MESSAGE_NATION: messaging.OPEN_STATES,
    Action.DISCUSS: messaging.OPEN_STATES,
    # Obligations bind from activation, and after the end (return or destruction).
    Action.REPORT_OBLIGATION: obligations.BINDING,
    Action.ASSESS_OBLIGATION: obligations.BINDING,
    Action.WAIVE_OBLIGATION: obligations.BINDING,
    # The end (workflow/ending.py): closing early from active; attesting and answering
    # after any end, until every Nation acknowledged (closed).
    Action.CLOSE: frozenset({S.ACTIVE}),
    Action.ATTEST_DESTRUCTION: ending.ENDED_FROM,
    Action.ACKNOWLEDGE_DESTRUCTION: ending.ENDED_FROM,
    # Outputs before publication (portal/workflow/outputs.py) follow the obligations: a
    # Nation's review before publication binds after access ends too (work drawn from
    # the data is often published later), so it goes on until the request is closed.
    # One submitted before the request closed is still judged after (found in a review:
    # the last acknowledgement left it in review for good).
    Action.SUBMIT_OUTPUT: obligations.BINDING,
    Action.REVIEW_OUTPUT: obligations.BINDING | {S.CLOSED},
    Action.DECIDE_OUTPUT: obligations.BINDING | {S.CLOSED},
    # Renewal and amendment open from active (one at a time: amending.guard_open).
    Action.RENEW: frozenset({S.ACTIVE}),
    Action.AMEND: frozenset({S.ACTIVE}),
}
# The system's own step (no policy action: nobody decides it).
EXPIRE_FROM = frozenset({S.ACTIVE})
# The pipeline's steps: while a renewal or amendment is open they walk it again, so they
# look at its phase (request.phase); every other step looks at the request's status.
PIPELINE = frozenset(
    {
        Action.EDIT,
        Action.SUBMIT,
        Action.WITHDRAW,
        Action.SCREEN,
        Action.REVIEW,
        Action.APPROVE,
        Action.REFUSE,
        Action.SIGN,
    }
)


class NationArg(Enum):
    NONE = "none"  # portal-wide: the command names no Nation
    REQUIRED = "required"  # for one Nation the request concerns
    PARTY = "party"  # signing: the party's Nation, if any (resolved by ``prepare``)
    OPTIONAL = "optional"  # a message: the Nation named, if its thread is a Nation's
    OBLIGATION = "obligation"  # the Nation owed the obligation named (``prepare``)


Guard = Callable[[Context, Any], BlockingRule | None]
Step = Callable[[Context, Any], None]


@dataclass(frozen=True)
class Transition:
    command: type[Command]
    action: Callable[[Any], Action | None]  # the policy action a command asks
    handler: Step
    nation: NationArg = NationArg.NONE
    prepare: Step | None = None  # resolves what the checks need (who signs for whom)
    # Slow work done before the write transaction (perform_ahead), its result carried
    # in the command; the guard then checks that what it was done from still holds.
    ahead: Callable[[Context, Any], Command] | None = None
    guard: Guard | None = None  # "not now" beyond the state: 409
    validate: Step | None = None  # the command's input: 422
    # What available() offers: the command to probe with, and the action whose
    # conditions are shown as what blocks it (decide: refusal is open, approval may not be).
    probe: Command | None = None
    preview: c.Command | None = None
    # Offered when the probe is refused (an obligation not yet reported: waiving only).
    fallback: c.Command | None = None

    @property
    def name(self) -> str:
        return self.command.name

    def allowed_from(self, command: Command) -> frozenset[RequestStatus]:
        action = self.action(command)
        return EXPIRE_FROM if action is None else ALLOWED_FROM[action]

    def state(self, command: Command, request: AccessRequest) -> RequestStatus:
        """What the state check reads: the amendment's phase for the pipeline's steps."""
        return request.phase if self.action(command) in PIPELINE else request.status

    def allows_state(self, command: Command, request: AccessRequest) -> bool:
        """Whether the request's state (or its amendment's phase) lets the step be done."""
        return self.state(command, request) in self.allowed_from(command)


def _fixed(action: Action) -> Callable[[Any], Action]:
    return lambda command: action


def _decision(command: c.Decide) -> Action:
    return Action.APPROVE if command.outcome == "approve" else Action.REFUSE


TRANSITIONS: dict[type[Command], Transition] = {
    t.command: t
    for t in (
        Transition(
            c.Edit, _fixed(Action.EDIT), drafting.edit, validate=drafting.validate_edit,
            probe=c.Edit(),
        ),
        Transition(
            c.Submit, _fixed(Action.SUBMIT), drafting.submit, validate=drafting.validate_submit,
            probe=c.Submit(),
        ),
        Transition(
            c.Withdraw, _fixed(Action.WITHDRAW), drafting.withdraw,
            validate=drafting.validate_withdraw, probe=c.Withdraw(),
        ),
        Transition(
            c.Screen, _fixed(Action.SCREEN), drafting.screen, guard=deciding.guard_read_revision,
            validate=drafting.validate_screen, probe=c.Screen(),
        ),
        Transition(
            c.Review, _fixed(Action.REVIEW), deciding.review, NationArg.REQUIRED,
            guard=deciding.guard_review, validate=deciding.validate_review, probe=c.Review(),
        ),
        Transition(
            c.Decide, _decision, deciding.decide, NationArg.REQUIRED,
            guard=deciding.guard_decide, validate=deciding.validate_decide,
            probe=c.Decide(outcome="refuse"), preview=c.Decide(outcome="approve"),
            ahead=deciding.draft_ahead,
        ),
        Transition(
            c.Sign, _fixed(Action.SIGN), signing.sign, NationArg.PARTY,
            prepare=signing.resolve_party, guard=signing.guard_sign,
            validate=signing.validate_sign, probe=c.Sign(), ahead=signing.sign_ahead,
        ),
        Transition(
            c.Revoke, _fixed(Action.REVOKE), signing.revoke, NationArg.REQUIRED,
            guard=signing.guard_revoke, validate=signing.validate_revoke, probe=c.Revoke(),
        ),
        # Offered by thread, not by available(): no probe (messaging.readable_threads).
        Transition(
            c.Message, messaging.thread_action, messaging.message, NationArg.OPTIONAL,
            prepare=messaging.prepare, validate=messaging.validate,
        ),
        Transition(
            c.ReportObligation, _fixed(Action.REPORT_OBLIGATION), obligations.report,
            NationArg.OBLIGATION, prepare=obligations.prepare, guard=obligations.guard_report,
            validate=obligations.validate_report, probe=c.ReportObligation(),
        ),
        Transition(
            c.AssessObligation, obligations.assessing, obligations.assess, NationArg.OBLIGATION,
            prepare=obligations.prepare, guard=obligations.guard_assess,
            validate=obligations.validate_assess, probe=c.AssessObligation(outcome="met"),
            fallback=c.AssessObligation(outcome="waived"),
        ),
        Transition(c.Expire, lambda command: None, signing.expire, guard=signing.guard_expire),
        Transition(
            c.Close, _fixed(Action.CLOSE), ending.close, guard=ending.guard_close,
            validate=ending.validate_close, probe=c.Close(),
        ),
        Transition(
            c.AttestDestruction, _fixed(Action.ATTEST_DESTRUCTION), ending.attest,
            guard=ending.guard_attest, validate=ending.validate_attest,
            probe=c.AttestDestruction(), ahead=ending.attest_ahead,
        ),
        Transition(
            c.AcknowledgeDestruction, _fixed(Action.ACKNOWLEDGE_DESTRUCTION), ending.acknowledge,
            NationArg.REQUIRED, guard=ending.guard_acknowledge,
            validate=ending.validate_acknowledge, probe=c.AcknowledgeDestruction(),
        ),
        # Outputs before publication; offered while one waits for the Nation named.
        # Renewal and amendment: a new revision of the active request (amending.py).
        Transition(
            c.Renew, _fixed(Action.RENEW), amending.open_amendment, guard=amending.guard_open,
            validate=amending.validate_open, probe=c.Renew(),
        ),
        Transition(
            c.Amend, _fixed(Action.AMEND), amending.open_amendment, guard=amending.guard_open,
            validate=amending.validate_open, probe=c.Amend(),
        ),
        Transition(
            c.SubmitOutput, _fixed(Action.SUBMIT_OUTPUT), outputs.submit,
            validate=outputs.validate_submit, probe=c.SubmitOutput(),
        ),
        Transition(
            c.ReviewOutput, _fixed(Action.REVIEW_OUTPUT), outputs.review, NationArg.REQUIRED,
            guard=outputs.guard_review, validate=outputs.validate_review, probe=c.ReviewOutput(),
        ),
        Transition(
            c.DecideOutput, _fixed(Action.DECIDE_OUTPUT), outputs.decide, NationArg.REQUIRED,
            guard=outputs.guard_decide, validate=outputs.validate_decide, probe=c.DecideOutput(),
        ),
    )
}  # fmt: skip


def transition_for(command: Command) -> Transition:
    try:
        return TRANSITIONS[type(command)]
    except KeyError:
        raise TypeError(f"no transition handles {type(command).__name__}") from None
