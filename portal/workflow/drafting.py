"""The researcher's and the coordinator's steps: draft, edit, submit, withdraw, screen."""

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session

from portal.agreements import service as agreements
from portal.agreements.models import AgreementStatus
from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import User
from portal.errors import ValidationError
from portal.policy.service import require
from portal.policy.vocabulary import Action
from portal.requests import fields as request_fields
from portal.requests import service
from portal.requests.models import AccessRequest, AmendmentKind, RequestRevision, RequestStatus
from portal.workflow import amending, tracks
from portal.workflow.commands import Edit, Screen, Submit, Withdraw
from portal.workflow.context import Context

S = RequestStatus
SCREEN_OUTCOMES = ("accept", "return")
RETURN_REASONS = {
    "clarification": _l("Clarification needed"),
    "outside_mandate": _l("Outside the portal's mandate"),
}


EMPTY_DRAFT = _l("Nothing was typed, so there is no draft to save: give at least a title.")


def create_draft(session: Session, researcher: User, fields: dict[str, Any]) -> AccessRequest:
    """A new draft (no request exists yet, so this is the one step outside perform()).
    A draft with nothing in it is refused: it would only be an untitled stray."""
    require(session, researcher, Action.CREATE)
    values, datasets = request_fields.clean(session, fields)
    if not datasets and request_fields.nothing_typed(values):
        raise ValidationError({"title": str(EMPTY_DRAFT)})
    request = service.new_draft(session, researcher, values, datasets)
    record_event(session, action=EventType.REQUEST_CREATED, actor=researcher, request=request)
    return request


def validate_edit(ctx: Context, command: Edit) -> None:
    ctx.extra["clean"] = request_fields.clean(ctx.session, dict(command.fields))


def edit(ctx: Context, command: Edit) -> None:
    values, datasets = ctx.extra["clean"]
    changed = service.save_edits(ctx.session, ctx.request, values, datasets)
    # Which fields changed, never their text: a draft is the researcher's own. After a
    # submission, not even which (found in a probe: the Nations read that a draft was
    # changing the team or the datasets); the next revision shows them all.
    if changed and ctx.request.current_revision:
        ctx.event(EventType.REQUEST_EDITED)
    elif changed:
        ctx.event(EventType.REQUEST_EDITED, fields=changed)


def validate_submit(ctx: Context, command: Submit) -> None:
    fields = service.working_copy(ctx.session, ctx.request)
    if missing := request_fields.missing_for_submission(fields):
        summary = _("The request is not complete: %(gaps)s", gaps="; ".join(missing.values()))
        raise ValidationError(missing, summary)
    if ctx.request.pending_fields is not None:  # a dataset may have gone since they were saved
        ctx.extra["edits"] = request_fields.clean(ctx.session, fields)


def submit(ctx: Context, command: Submit) -> None:
    request = ctx.request
    if "edits" in ctx.extra:
        service.apply_edits(ctx.session, request, *ctx.extra["edits"])
    request.current_revision += 1
    ctx.session.add(
        RequestRevision(
            request_id=request.id,
            number=request.current_revision,
            fields=service.snapshot(ctx.session, request),
            submitted_by_id=ctx.actor.id,
        )
    )
    ctx.set_status(S.SCREENING)
    ctx.session.flush()
    nations = service.nations_of(ctx.session, request)
    ctx.event(EventType.REQUEST_SUBMITTED, nations, revision=request.current_revision)
    tracks.end_dropped(ctx, nations)
    ctx.tell("submitted")


def validate_withdraw(ctx: Context, command: Withdraw) -> None:
    if not command.reason.strip():
        if ctx.request.amendment is None:
            why = _("Say why the request is withdrawn.")
        elif ctx.request.amendment_kind is AmendmentKind.RENEW:
            why = _("Say why the renewal is withdrawn.")
        else:
            why = _("Say why the amendment is withdrawn.")
        raise ValidationError({"reason": why})


def withdraw(ctx: Context, command: Withdraw) -> None:
    reason = command.reason.strip()
    if ctx.request.amendment is not None:  # the amendment ends; access goes on as it was
        amending.end(ctx, "withdrawn", reason)
        return
    ctx.set_status(S.WITHDRAWN)
    agreements.mark(ctx.session, ctx.request, AgreementStatus.VOID)
    ctx.event(
        EventType.REQUEST_WITHDRAWN, service.nations_of(ctx.session, ctx.request), reason=reason
    )
    ctx.tell("withdrawn", reason=reason)


def validate_screen(ctx: Context, command: Screen) -> None:
    if command.outcome not in SCREEN_OUTCOMES:
        raise ValidationError({"outcome": _("Choose accept or return.")})
    if command.outcome == "return":
        if (command.reason or "clarification") not in RETURN_REASONS:
            raise ValidationError({"reason": _("Choose clarification or outside_mandate.")})
        if not command.comment.strip():
            raise ValidationError({"comment": _("Tell the researcher what to change or why.")})


def screen(ctx: Context, command: Screen) -> None:
    request, comment = ctx.request, command.comment.strip()
    nations = service.nations_of(ctx.session, request)
    if command.outcome == "return":
        reason = command.reason or "clarification"
        ctx.set_status(S.CHANGES_REQUESTED)
        ctx.event(EventType.REQUEST_RETURNED, nations, reason=reason, comment=comment)
        ctx.tell("returned", reason=RETURN_REASONS[reason], comment=comment)
        return
    tracks.open_review(ctx, nations)  # every Nation reviews the new revision afresh
    ctx.set_status(S.UNDER_REVIEW)
    ctx.session.flush()
    ctx.event(EventType.REQUEST_SCREENED, nations, comment=comment)
    ctx.tell("accepted", nations=nations)
