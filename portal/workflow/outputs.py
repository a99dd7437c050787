"""Outputs before publication (issue 11): the researcher submits one; each Nation that
asked for it reviews it through its stewards (its own quorum rule, conflicts and the
requesting side excluded) and its representative approves or refuses its publication,
with reasons. Each Nation decides alone; the output is cleared when every asking Nation
still party approved, refused when one refused, and cleared at once when none asked. A
Nation an amendment drops stops counting (``end_dropped``)."""

from flask_babel import gettext as _

from portal import validation
from portal.agreements.parties import nations_concerned
from portal.audit.events import EventType
from portal.db import utcnow
from portal.errors import BlockingRule, ValidationError
from portal.lifecycle.outputs import content, store
from portal.lifecycle.outputs import service as outputs
from portal.lifecycle.outputs.models import (
    OutputDecision,
    OutputOutcome,
    OutputRecommendation,
    OutputReview,
    OutputStatus,
    OutputTrack,
    ResearchOutput,
)
from portal.lifecycle.outputs.models import OutputTrackStatus as T
from portal.registry.models import Nation
from portal.requests.service import nations_of
from portal.workflow.commands import DecideOutput, ReviewOutput, SubmitOutput
from portal.workflow.context import Context

CHOICES = {r.value for r in OutputRecommendation}


def validate_submit(ctx: Context, command: SubmitOutput) -> None:
    errors: dict[str, str] = {}
    ctx.extra["title"] = validation.text(errors, "title", command.title, "title", max_length=300)
    ctx.extra["venue"] = validation.text(
        errors, "venue", command.venue, "place of publication", max_length=500
    )
    filename = content.own_name(errors, command.filename) or "output"
    try:
        limit = store.max_bytes(ctx.session)
        ctx.extra["media_type"] = content.checked(command.content, filename, limit)
    except ValidationError as error:
        errors.update(error.errors)
    if errors:
        raise ValidationError(errors)
    ctx.extra["filename"] = filename


def submit(ctx: Context, command: SubmitOutput) -> None:
    media_type, data = ctx.extra["media_type"], command.content
    output = ResearchOutput(
        request_id=ctx.request.id,
        title=ctx.extra["title"],
        venue=ctx.extra["venue"],
        filename=ctx.extra["filename"],
        media_type=media_type,
        size=len(data),
        sha256=store.put(ctx.session, data, media_type),
        submitted_by=ctx.actor.id,
    )
    asking = outputs.asking_nations(ctx.session, ctx.request)
    if not asking:  # no Nation asked to review outputs: nothing waits
        output.status, output.settled_at = OutputStatus.CLEARED, utcnow()
    ctx.session.add(output)
    ctx.session.flush()
    by_threshold: dict[int, dict] = {}  # Nations sharing a threshold share the reading
    for nation, asked_by in asking:
        threshold = nation.small_cell_threshold
        if threshold not in by_threshold:
            by_threshold[threshold] = outputs.findings(media_type, data, threshold)
        track = OutputTrack(output_id=output.id, nation_id=nation.id, asked_by=asked_by)
        track.findings = by_threshold[threshold]
        ctx.session.add(track)
    ctx.event(
        EventType.OUTPUT_SUBMITTED,
        nations_of(ctx.session, ctx.request),
        output=output.id,
        title=output.title,
        venue=output.venue,
        media_type=media_type,
        size=output.size,
        sha256=output.sha256,
        reviewed_by=[nation.slug for nation, _ in asking],
        cleared=output.status == OutputStatus.CLEARED,
    )
    if asking:
        ctx.tell("output_submitted", output=output, nations=[nation for nation, _ in asking])


def _track(
    ctx: Context, output_id: int | None
) -> tuple[ResearchOutput | None, BlockingRule | None]:
    """The output named (or, for available()'s probe, whether any waits for the
    Nation), and what stops the Nation acting on it now."""
    nation = ctx.nation
    if output_id is None:
        tracks = outputs.waiting_tracks(ctx.session, ctx.request)  # read once for a page
        waiting = [track for track in tracks if track.nation_id == nation.id]
        if not waiting:
            return None, BlockingRule(
                "state", _("No output waits for %(nation)s.", nation=nation.name)
            )
        return None, None
    output = outputs.get_output(ctx.session, ctx.request, output_id)
    ctx.extra["output"] = output
    track = outputs.track_for(ctx.session, output, nation)
    if track is None:
        return output, BlockingRule(
            "state", _("%(nation)s did not ask to review this output.", nation=nation.name)
        )
    ctx.extra["track"] = track
    if output.status != OutputStatus.IN_REVIEW or not track.status.is_open:
        return output, BlockingRule(
            "state", _("This output is %(state)s.", state=output.status.label.lower())
        )
    return output, None


def guard_review(ctx: Context, command: ReviewOutput) -> BlockingRule | None:
    output, blocked = _track(ctx, command.output)
    if blocked or output is None:
        return blocked
    if any(
        r.steward_id == ctx.actor.id for r in outputs.reviews_of(ctx.session, output, ctx.nation)
    ):
        return BlockingRule("one_review_per_steward", _("You have already reviewed this output."))
    return None


def _named(command) -> None:
    if command.output is None:
        raise ValidationError({"output": _("Name the output (its id).")})


def validate_review(ctx: Context, command: ReviewOutput) -> None:
    _named(command)
    if "\x00" in command.comment:
        raise ValidationError({"comment": _("The comment must not contain NUL characters.")})
    if command.conflict_of_interest:
        return
    if command.recommendation not in CHOICES:
        raise ValidationError({"recommendation": _("Choose approve or refuse.")})
    if command.recommendation == OutputRecommendation.REFUSE and not command.comment.strip():
        raise ValidationError({"comment": _("Explain the recommendation in the comment.")})


def review(ctx: Context, command: ReviewOutput) -> None:
    output, track, nation = ctx.extra["output"], ctx.extra["track"], ctx.nation
    recommendation = None if command.conflict_of_interest else command.recommendation
    ctx.session.add(
        OutputReview(
            output_id=output.id,
            nation_id=nation.id,
            steward_id=ctx.actor.id,
            recommendation=recommendation,
            conflict_of_interest=command.conflict_of_interest,
            comment=command.comment.strip(),
        )
    )
    ctx.session.flush()
    ctx.event(
        EventType.OUTPUT_REVIEWED,
        [nation],
        output=output.id,
        recommendation=recommendation,
        conflict_of_interest=command.conflict_of_interest,
    )
    tally = outputs.tally(ctx.session, ctx.request, output, nation)
    if track.status == T.REVIEW and tally.quorum_met:
        _move(ctx, track, T.DECISION)
        ctx.tell("output_ready_for_decision", output=output, nation=nation)


def guard_decide(ctx: Context, command: DecideOutput) -> BlockingRule | None:
    output, blocked = _track(ctx, command.output)
    if blocked or output is None or command.outcome != OutputOutcome.APPROVE:
        return blocked
    tally, name = outputs.tally(ctx.session, ctx.request, output, ctx.nation), ctx.nation.name
    if not tally.quorum_met:
        message = _(
            "%(nation)s requires %(quorum)s steward reviews of this output; %(counted)s recorded.",
            nation=name,
            quorum=tally.quorum,
            counted=tally.counted,
        )
        return BlockingRule("output_quorum_met", message)
    if tally.approvals < tally.min_approvals:
        message = _(
            "%(nation)s requires %(needed)s steward recommendations to approve "
            "this output; %(approvals)s recorded.",
            nation=name,
            needed=tally.min_approvals,
            approvals=tally.approvals,
        )
        return BlockingRule("output_min_approvals_met", message)
    return None


def validate_decide(ctx: Context, command: DecideOutput) -> None:
    _named(command)
    if command.outcome not in {o.value for o in OutputOutcome}:
        raise ValidationError({"outcome": _("Choose approve or refuse.")})
    if "\x00" in command.reason:
        raise ValidationError({"reason": _("The reason must not contain NUL characters.")})
    if command.outcome == OutputOutcome.REFUSE and not command.reason.strip():
        raise ValidationError(
            {"reason": _("Give the reason for refusing; the researcher sees it.")}
        )


def decide(ctx: Context, command: DecideOutput) -> None:
    output, track, nation = ctx.extra["output"], ctx.extra["track"], ctx.nation
    approve, reason = command.outcome == OutputOutcome.APPROVE, command.reason.strip()
    ctx.session.add(
        OutputDecision(
            output_id=output.id,
            nation_id=nation.id,
            representative_id=ctx.actor.id,
            outcome=OutputOutcome(command.outcome),
            reason=reason,
        )
    )
    _move(ctx, track, T.APPROVED if approve else T.REFUSED)
    ctx.session.flush()
    if not approve:
        _settle(ctx, output, OutputStatus.REFUSED)
    else:
        _clear_if_let(ctx, output)
    kind = EventType.OUTPUT_APPROVED if approve else EventType.OUTPUT_REFUSED
    ctx.event(kind, [nation], output=output.id, reason=reason, status=output.status.value)
    ctx.tell("output_decided", output=output, nation=nation, outcome=command.outcome, reason=reason)


def release(ctx: Context, nation: Nation) -> list[int]:
    """The Nation waived its review of the request's outputs: those waiting for it wait
    no more (cleared if no other Nation holds them back). Returns their ids."""
    released = []
    for track in outputs.waiting_tracks(ctx.session, ctx.request):
        if track.nation_id == nation.id:
            _move(ctx, track, T.WAIVED)
            ctx.session.flush()
            _clear_if_let(ctx, ctx.session.get(ResearchOutput, track.output_id))
            released.append(track.output_id)
    return released


def end_dropped(ctx: Context) -> None:
    """An amendment took effect: a Nation it dropped is no longer a party and cannot act
    on the request, so its open part in each output still in review ends and stops
    counting (invariant 11). An output whose other parts all approved is cleared then:
    nothing else would ever settle it."""
    party = {nation.id for nation in nations_concerned(ctx.session, ctx.request)}
    for output in outputs.outputs_of(ctx.session, ctx.request):
        if output.status != OutputStatus.IN_REVIEW:
            continue
        for track, nation in outputs.tracks_of(ctx.session, output):
            if nation.id in party or not track.status.is_open:
                continue
            _move(ctx, track, T.ENDED)
            ctx.session.flush()
            _clear_if_let(ctx, output)
            details = {"output": output.id, "nation": nation.slug, "status": output.status.value}
            ctx.event(EventType.OUTPUT_PART_ENDED, [nation], **details)


def _clear_if_let(ctx: Context, output: ResearchOutput) -> None:
    if all(t.status.lets_publish for t, _ in outputs.tracks_of(ctx.session, output)):
        _settle(ctx, output, OutputStatus.CLEARED)


def _move(ctx: Context, track: OutputTrack, status: T) -> None:
    track.status, track.updated_at = status, utcnow()
    ctx.session.add(track)


def _settle(ctx: Context, output: ResearchOutput, status: OutputStatus) -> None:
    output.status, output.settled_at = status, utcnow()
    ctx.session.add(output)
