"""An active request's obligations: the researcher reports, the Nation owed it assesses
(met, not met) and its representative may waive it. Neither step touches a decision, a
track or the request's status: an obligation never changes a decision by itself. (Waiving
the review of outputs before publication releases the outputs waiting for it.)"""

from datetime import date

from flask_babel import gettext as _
from sqlmodel import Session

from portal.agreements import service as agreements
from portal.audit.events import EventType
from portal.auth.models import User
from portal.errors import BlockingRule, NotFound, ValidationError
from portal.lifecycle import attestations
from portal.lifecycle import service as lifecycle
from portal.lifecycle.models import Obligation, ObligationState
from portal.lifecycle.outputs import content, store
from portal.lifecycle.outputs.service import met_by_output_review
from portal.policy.service import authorize
from portal.policy.vocabulary import Action
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.workflow import outputs
from portal.workflow.commands import AssessObligation, ReportObligation
from portal.workflow.context import Context

BINDING = lifecycle.BINDING
MAX_TEXT = 5000
OUTCOMES = {
    s.value: s for s in (ObligationState.MET, ObligationState.NOT_MET, ObligationState.WAIVED)
}


def outcomes_for(
    session: Session, actor: User, request: AccessRequest, obligation: Obligation
) -> list[str]:
    """The outcomes the assessment page offers ``actor``: met and not met on a report,
    if the policy lets them assess for its Nation; waived, if it lets them waive."""
    nation = session.get(Nation, obligation.nation_id)

    def allowed(action: Action) -> bool:
        return authorize(session, actor, action, nation=nation, request=request).allowed

    outcomes = []
    if obligation.state == ObligationState.REPORTED and allowed(Action.ASSESS_OBLIGATION):
        outcomes += ["met", "not_met"]
    if not obligation.state.settled and allowed(Action.WAIVE_OBLIGATION):
        outcomes.append("waived")
    return outcomes


def assessing(command: AssessObligation) -> Action:
    """Waiving is the Nation letting an obligation go: a separate action (representatives)."""
    return Action.WAIVE_OBLIGATION if command.outcome == "waived" else Action.ASSESS_OBLIGATION


def prepare(ctx: Context, command: ReportObligation | AssessObligation) -> None:
    """The obligation named, which must be this request's (404 otherwise); an assessment
    acts for the Nation owed it, which the policy is then asked about."""
    obligation = lifecycle.find(ctx.session, ctx.request, command.obligation)
    if obligation is None:
        raise NotFound(
            _(
                "no obligation %(number)s on request %(ref)s",
                number=command.obligation,
                ref=ctx.request.ref,
            )
        )
    ctx.extra["obligation"] = obligation
    ctx.extra["owed_to"] = ctx.session.get(Nation, obligation.nation_id)
    if isinstance(command, AssessObligation):
        ctx.nation = ctx.extra["owed_to"]


def _settled(obligation: Obligation) -> BlockingRule | None:
    """Refuse any step on an obligation nothing more is asked of."""
    if obligation.state is ObligationState.SUPERSEDED:
        message = _(
            "A later edition's conditions replaced this obligation: nothing more is owed under it."
        )
        return BlockingRule("state", message)
    if obligation.state.settled:
        message = _("This obligation is %(state)s already.", state=obligation.state.label.lower())
        return BlockingRule("state", message)
    return None


def guard_report(ctx: Context, command: ReportObligation) -> BlockingRule | None:
    obligation = ctx.extra["obligation"]
    if refused := _settled(obligation):
        return refused
    if met_by_output_review(obligation):
        message = _(
            "This obligation is met by submitting each output for %(nation)s's review "
            "before publication: there is no report to make.",
            nation=ctx.extra["owed_to"].name,
        )
        return BlockingRule("output_review", message)
    if not obligation.state.owes_report:
        message = _(
            "This obligation is %(state)s: nothing to report now.",
            state=obligation.state.label.lower(),
        )
        return BlockingRule("state", message)
    ended = attestations.ended_day(ctx.session, ctx.request)
    if opens := lifecycle.report_not_yet(obligation, date.today(), ended):
        message = _(
            "Its report counts for the period that falls due on %(due)s, so it is taken from "
            "%(opens)s.",
            due=obligation.next_due.isoformat(),
            opens=opens.isoformat(),
        )
        return BlockingRule("report_window", message)
    return None


def validate_report(ctx: Context, command: ReportObligation) -> None:
    errors: dict[str, str] = {}
    text = (command.text or "").strip()
    if not text:
        errors["text"] = _("Say what was done to meet the obligation.")
    elif len(text) > MAX_TEXT:
        errors["text"] = _("At most %(limit)s characters.", limit=MAX_TEXT)
    filename = content.own_name(errors, command.filename)
    # The file is optional; when sent, checked as outputs are.
    if "filename" not in errors and command.content:
        try:
            limit = store.max_bytes(ctx.session)
            kind = "a report's file"
            ctx.extra["media_type"] = content.checked(command.content, filename, limit, kind)
        except ValidationError as error:
            errors.update(error.errors)
    if errors:
        raise ValidationError(errors)


def report(ctx: Context, command: ReportObligation) -> None:
    obligation, text = ctx.extra["obligation"], command.text.strip()
    media_type, digest = ctx.extra.get("media_type"), None
    if media_type:
        digest = store.put(ctx.session, command.content, media_type)
    lifecycle.report(obligation, text, digest)
    ctx.session.add(obligation)
    ctx.session.flush()
    # The file's digest goes on the chain, so the record shows which bytes were sent.
    file = {"file_sha256": digest, "file_media_type": media_type} if digest else {}
    ctx.event(
        EventType.OBLIGATION_REPORTED,
        [ctx.extra["owed_to"]],
        obligation=obligation.id,
        text=text,
        **file,
    )
    ctx.tell("obligation_reported", obligation=obligation, nation=ctx.extra["owed_to"])


def _access_ends(session: Session, request: AccessRequest) -> date | None:
    """The day access ended, or, while it lasts, the last day of the edition in force."""
    ending = attestations.ending_of(session, request)
    if ending is not None:
        return attestations.ended_on(ending)
    agreement = agreements.current(session, request)
    return agreement.term_end if agreement is not None else None


def guard_assess(ctx: Context, command: AssessObligation) -> BlockingRule | None:
    obligation = ctx.extra["obligation"]
    if refused := _settled(obligation):
        return refused
    # Met or not met judges the report its author read: one sent from a page opened
    # before the researcher reported again would judge a report its author never saw
    # (found in a probe). Waiving judges no report, so whatever was read, it stays open.
    read = command.reported_at
    if command.outcome != "waived" and read is not None and read != obligation.reported_at:
        message = _(
            "The researcher reported again since you opened it: read the latest report, "
            "then give your assessment again."
        )
        return BlockingRule("latest_report", message)
    if command.outcome != "waived" and obligation.state != ObligationState.REPORTED:
        return BlockingRule("state", _nothing_reported(ctx))
    return None


def _nothing_reported(ctx: Context) -> str:
    """Why nothing can be assessed yet, worded by what this person may do instead: only
    whom the policy lets waive is told that waiving is possible."""
    if (
        ctx.actor is not None
        and authorize(
            ctx.session, ctx.actor, Action.WAIVE_OBLIGATION, nation=ctx.nation, request=ctx.request
        ).allowed
    ):
        return _("Nothing is reported on this obligation yet: it can be waived, not assessed.")
    return _(
        "Nothing is reported on this obligation yet: there is nothing to assess"
        " until the researcher reports on it."
    )


def validate_assess(ctx: Context, command: AssessObligation) -> None:
    if command.outcome not in OUTCOMES:
        raise ValidationError({"outcome": _("Choose met, not_met or waived.")})
    comment = (command.comment or "").strip()
    if command.outcome != "met" and not comment:
        raise ValidationError({"comment": _("Say why: the Nation's record keeps it.")})
    if len(comment) > MAX_TEXT:
        raise ValidationError({"comment": _("At most %(limit)s characters.", limit=MAX_TEXT)})


def assess(ctx: Context, command: AssessObligation) -> None:
    obligation, comment = ctx.extra["obligation"], command.comment.strip()
    outcome = OUTCOMES[command.outcome]
    access_ends = _access_ends(ctx.session, ctx.request)
    lifecycle.assess(
        obligation, outcome, comment, command.tell_researcher, ctx.actor.id, access_ends
    )
    ctx.session.add(obligation)
    ctx.session.flush()
    # Waiving the review of outputs lets them go: none waits for the Nation's review now.
    waived_review = outcome is ObligationState.WAIVED and met_by_output_review(obligation)
    released = outputs.release(ctx, ctx.nation) if waived_review else []
    ctx.event(
        EventType.OBLIGATION_ASSESSED,
        [ctx.nation],
        obligation=obligation.id,
        outcome=outcome.value,
        comment=comment,
        tell_researcher=command.tell_researcher,
        state=obligation.state.value,
        next_due=obligation.next_due.isoformat() if obligation.next_due else None,
        **({"released_outputs": released} if released else {}),
    )
    ctx.tell("obligation_assessed", obligation=obligation, nation=ctx.nation)
