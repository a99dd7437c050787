"""Each Nation's own steps: its stewards review, its representative decides."""

from dataclasses import replace
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session

from portal.agreements import editions, parties
from portal.agreements import service as agreements
from portal.agreements.models import AgreementStatus
from portal.audit.events import EventType
from portal.conversations.models import Channel
from portal.conversations.service import Thread
from portal.errors import BlockingRule, ValidationError
from portal.lifecycle.service import default_due
from portal.policy.store import current_policy
from portal.registry.models import Nation
from portal.requests.models import AccessRequest, RequestStatus
from portal.reviews import due as due_of
from portal.reviews.models import Decision, NationTrack, Outcome, Recommendation, TrackStatus
from portal.reviews.models import Review as ReviewRow
from portal.reviews.service import has_reviewed, standing_approval, tally, track_for
from portal.reviews.terms import Catalogue, catalogue_in_force, condition_text, looks_like_code
from portal.workflow import amending, messaging
from portal.workflow.commands import Decide, Review, Screen
from portal.workflow.context import Context
from portal.workflow.tracks import current_tracks

S = RequestStatus
# A Nation may refuse until it has refused, revoked, or left the request.
REFUSABLE_TRACKS = frozenset({TrackStatus.REVIEW, TrackStatus.DECISION, TrackStatus.APPROVED})


def guard_read_revision(ctx: Context, command: Screen | Review | Decide) -> BlockingRule | None:
    """A screening, review or decision judges the revision its author read: one written
    on a page opened before the researcher revised the request would judge text its
    author never saw (found in a probe: a stale review page approved revision 2, a stale
    screening page accepted it)."""
    if command.revision is None or command.revision == ctx.request.current_revision:
        return None
    message = _(
        "The request was revised since you opened it: revision %(number)s is now the one "
        "to judge. Read it, then give your answer again.",
        number=ctx.request.current_revision,
    )
    return BlockingRule("current_revision", message)


def guard_review(ctx: Context, command: Review) -> BlockingRule | None:
    if stale := guard_read_revision(ctx, command):
        return stale
    track = track_for(ctx.session, ctx.request, ctx.nation)
    if track is None or not track.status.is_open:
        return BlockingRule(
            "state", _("%(nation)s has already decided on this request.", nation=ctx.nation.name)
        )
    if has_reviewed(ctx.session, ctx.request, ctx.nation, ctx.actor):
        message = _(
            "You have already reviewed revision %(number)s.", number=ctx.request.current_revision
        )
        return BlockingRule("one_review_per_steward", message)
    return None


def validate_review(ctx: Context, command: Review) -> None:
    if command.conflict_of_interest:
        return
    if command.recommendation not in {r.value for r in Recommendation}:
        raise ValidationError({"recommendation": _("Choose approve, refuse or changes.")})
    if unexplained := comment_missing(command.recommendation, command.comment):
        raise ValidationError({"comment": unexplained})
    if _tells_researcher(command) and not messaging.may_read(
        ctx.session, ctx.actor, ctx.request, Thread(Channel.NATION, ctx.nation)
    ):
        message = _("You may not write to the researcher for %(nation)s.", nation=ctx.nation.name)
        raise ValidationError({"tell_researcher": message})


def comment_missing(recommendation: str | None, comment: str) -> str | None:
    """Why a steward's review needs a comment it lacks: a refusal or a request for
    changes is explained (the review form asks it too, beside its other answers)."""
    if recommendation in (Recommendation.REFUSE, Recommendation.CHANGES) and not comment.strip():
        return _("Explain the recommendation in the comment.")
    return None


def _tells_researcher(command: Review) -> bool:
    return command.tell_researcher and command.recommendation == Recommendation.CHANGES


def review(ctx: Context, command: Review) -> None:
    request, nation, comment = ctx.request, ctx.nation, command.comment.strip()
    recommendation = None if command.conflict_of_interest else command.recommendation
    ctx.session.add(
        ReviewRow(
            request_id=request.id,
            nation_id=nation.id,
            revision=request.current_revision,
            steward_id=ctx.actor.id,
            recommendation=recommendation,
            comment=comment,
            criteria=dict(command.criteria or {}),
            conflict_of_interest=command.conflict_of_interest,
        )
    )
    ctx.session.flush()
    ctx.event(
        EventType.REVIEW_RECORDED,
        [nation],
        recommendation=recommendation,
        conflict_of_interest=command.conflict_of_interest,
        revision=request.current_revision,
    )
    track = track_for(ctx.session, request, nation)
    if recommendation == Recommendation.CHANGES:
        ctx.set_status(S.CHANGES_REQUESTED)
        ctx.event(EventType.REQUEST_CHANGES_REQUESTED, [nation], comment=comment)
        ctx.tell("changes_requested", nation=nation, comment=comment)
        if _tells_researcher(command):
            # The request for changes opens the conversation with the researcher.
            messaging.write(ctx, Thread(Channel.NATION, nation), comment)
    elif track.status == TrackStatus.REVIEW and tally(ctx.session, request, nation).quorum_met:
        ctx.move_track(track, TrackStatus.DECISION)
        ctx.tell("ready_for_decision", nation=nation)


def guard_decide(ctx: Context, command: Decide) -> BlockingRule | None:
    # Refusal stays possible whatever was read (invariant 2): only approval is held back.
    if command.outcome == "approve" and (stale := guard_read_revision(ctx, command)):
        return stale
    track = track_for(ctx.session, ctx.request, ctx.nation)
    if command.outcome == "approve" and (track is None or not track.status.is_open):
        return BlockingRule(
            "state", _("%(nation)s has already decided on this revision.", nation=ctx.nation.name)
        )
    if track is not None and track.status not in REFUSABLE_TRACKS:
        message = _(
            "%(nation)s's part is %(state)s: nothing to decide.",
            nation=ctx.nation.name,
            state=track.status.label.lower(),
        )
        return BlockingRule("state", message)
    return None


def validate_decide(ctx: Context, command: Decide) -> None:
    if command.outcome not in {outcome.value for outcome in Outcome}:
        raise ValidationError({"outcome": _("Choose approve or refuse.")})
    if command.outcome == "refuse":
        # A refusal needs nothing but its reason (invariant 2): the conditions it would
        # throw away are not checked, so none can stand in its way (found by mutation
        # testing: a condition the rules no longer hold blocked the refusal).
        if not command.reason.strip():
            raise ValidationError(
                {"reason": _("Give the reason for refusing; the researcher sees it.")}
            )
        ctx.extra["conditions"] = []
        return
    catalogue = catalogue_in_force(ctx.session)
    chosen = _conditions(command.conditions, ctx.nation, ctx.request, catalogue)
    ctx.extra["conditions"] = _with_dues(chosen, command.conditions, command.dues or {})


def _decision(ctx: Context, command: Decide) -> Decision:
    """The decision ``command`` makes, not stored yet."""
    approve = command.outcome == "approve"
    return Decision(
        request_id=ctx.request.id,
        nation_id=ctx.nation.id,
        revision=ctx.request.current_revision,
        representative_id=ctx.actor.id,
        outcome=Outcome(command.outcome),
        reason=command.reason.strip(),
        conditions=ctx.extra["conditions"] if approve else [],
        # The version of the enforcer that judged it (this transaction's), not a newer one.
        rules_version=current_policy(ctx.session).rules_version,
    )


def draft_ahead(ctx: Context, command: Decide) -> Decide:
    """The last approval issues the agreement, and rendering it is slow (WeasyPrint):
    rendered here, from what the adapter read outside the write transaction, and
    carried in the command. issue() keeps that PDF only if the edition it writes says
    exactly the same; otherwise (anything changed meanwhile) it renders afresh."""
    last = command.outcome == "approve" and all(
        t.status == TrackStatus.APPROVED or n.id == ctx.nation.id for t, n in current_tracks(ctx)
    )
    if not last:
        return command
    return replace(
        command, drafted=agreements.draft(ctx.session, ctx.request, _decision(ctx, command))
    )


def decide(ctx: Context, command: Decide) -> None:
    request, nation, reason = ctx.request, ctx.nation, command.reason.strip()
    approve = command.outcome == "approve"
    decision = _decision(ctx, command)
    ctx.session.add(decision)
    track = track_for(ctx.session, request, nation) or NationTrack(
        request_id=request.id,
        nation_id=nation.id,  # refusing before screening opened it
    )
    ctx.move_track(track, TrackStatus.APPROVED if approve else TrackStatus.REFUSED)
    ctx.session.flush()
    everyone_approved = approve and all(
        t.status == TrackStatus.APPROVED for t, _ in current_tracks(ctx)
    )
    # The agreement is written in the same transaction as the last approval; its
    # digest goes into that approval's event (one event per transition).
    agreement = (
        agreements.issue(
            ctx.session, request, rules_version=decision.rules_version, drafted=command.drafted
        )
        if everyone_approved
        else None
    )
    kind = EventType.DECISION_APPROVED if approve else EventType.DECISION_REFUSED
    extra = {"agreement_sha256": agreement.sha256} if agreement else {}
    ctx.event(kind, [nation], reason=reason, conditions=decision.conditions, **extra)
    if not approve and ctx.request.amendment is not None:
        amending.end(ctx, "refused", reason, nation)  # access goes on under the edition in force
    elif not approve:
        ctx.set_status(S.REFUSED)
        agreements.mark(ctx.session, request, AgreementStatus.VOID)
        ctx.tell("refused", nation=nation, reason=reason)
    elif everyone_approved:
        ctx.set_status(S.AWAITING_SIGNATURES)
        ctx.tell("all_approved")
        ctx.tell("to_sign", nations=parties.approved_now(ctx.session, request))
    else:
        ctx.tell("approved", nation=nation)
    ctx.session.flush()


def conditions_in_force(session: Session, request: AccessRequest, nation: Nation) -> list[dict]:
    """During a renewal or amendment, the conditions of ``nation``'s approval that the
    edition in force carries: a new decision's conditions replace them (what is not yet
    due under them is superseded), so the decide page starts from them. Else []."""
    in_force = agreements.current(session, request) if request.amendment else None
    if in_force is None or in_force.effective_at is None:
        return []
    if nation.id not in {n.id for n in editions.signing_nations(session, in_force)}:
        return []  # a Nation the amendment adds (or brings back) has none in force
    approval = standing_approval(session, request, nation, in_force.revision)
    if approval is None:
        return []
    catalogue = catalogue_in_force(session)
    # A standard condition the catalogue no longer holds is shown as words: with the due
    # it had, which its code no longer gives.
    shown = []
    for condition in approval.conditions:
        if condition.get("code") not in catalogue and "due" not in condition:
            condition = {**condition, "due": default_due(session, approval, condition)}
        shown.append(condition)
    return shown


def _with_dues(chosen: list[dict], items: Any, dues: Any) -> list[dict]:
    """Each condition's due, where the representative gave one (keyed by the condition
    as given): it becomes the obligation's due when access begins (portal/lifecycle)."""
    if not isinstance(dues, dict):
        raise ValidationError({"dues": _("Give each condition's due by the condition.")})
    given = [item.strip() for item in items or ()]
    for key, spec in dues.items():
        if not isinstance(key, str) or key.strip() not in given:
            raise ValidationError(
                {
                    "dues": _(
                        "%(condition)s is not one of the conditions given.", condition=repr(key)
                    )
                }
            )
        try:
            due = due_of.parse(spec)
        except (ValueError, TypeError) as error:
            raise ValidationError({"dues": f"{key}: {error}"}) from None
        if due.on is not None and due.on < date.today():  # it would be overdue at once
            message = _("The date %(date)s has passed: give a later one.", date=due.on.isoformat())
            raise ValidationError({"dues": f"{key}: {message}"})
    spelled = {key.strip(): " ".join(str(spec).split()) for key, spec in dues.items()}
    return [
        {**condition, "due": spelled[item]} if item in spelled else condition
        for item, condition in zip(given, chosen, strict=True)
    ]


def _conditions(
    items: Any, nation: Nation, request: AccessRequest, catalogue: Catalogue
) -> list[dict]:
    """Standard conditions by code (of the catalogue in force), free-text ones as
    text: [{code, text}]. A code the catalogue does not hold (one the members removed,
    or mistyped) is refused, not kept as if it were the Nation's own words."""
    chosen = []
    for item in items or ():
        if not isinstance(item, str) or not item.strip():
            raise ValidationError({"conditions": _("Each condition is a code or a sentence.")})
        item = item.strip()
        if due_of.DUE_MARKER in item or "\n" in item or "\r" in item:
            message = _(
                "A condition is one line, without %(marker)s: give its due in dues.",
                marker=repr(due_of.DUE_MARKER),
            )
            raise ValidationError({"conditions": message})
        if item in catalogue:
            text = condition_text(catalogue[item]["text"], nation, request.storage_location)
            chosen.append({"code": item, "text": text})
        elif "_" in item and looks_like_code(item):  # "no_linkage"; a plain word is a sentence
            message = _("%(code)s is not a standard condition of the rules in force.", code=item)
            raise ValidationError({"conditions": message})
        else:
            chosen.append({"code": "custom", "text": item})
    return chosen
