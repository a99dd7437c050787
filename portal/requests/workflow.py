"""The request workflow: every transition goes through here (pages, API and CLI).

Each transition, in order: lock the request; may this person do this at all (the
Casbin enforcer: 403)? is it allowed in the current state (409, rule "state")? do the
governance conditions the Nation's policy attaches hold (409, the rules by name)?
Then change, record the audit event and queue the notifications in the same
transaction. Nothing here ever happens because time passed: silence is never consent.
"""

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from portal.audit.service import record_event
from portal.auth.models import User
from portal.db import utcnow
from portal.errors import BlockingRule, Forbidden, NotFound, Refused, ValidationError
from portal.policy.service import authorize
from portal.registry.models import Nation
from portal.requests import fields as request_fields
from portal.requests import notices
from portal.requests.models import AccessRequest, RequestRevision, RequestStatus
from portal.requests.service import nations_of, snapshot
from portal.reviews.models import (
    Decision,
    NationTrack,
    Outcome,
    Recommendation,
    Review,
    TrackStatus,
)
from portal.reviews.service import has_reviewed, tally, track_for, tracks_of
from portal.reviews.terms import STANDARD_CONDITIONS, condition_text

S = RequestStatus
# Where each action may start from. Anything else is refused with rule "state".
ALLOWED_FROM: dict[str, frozenset[RequestStatus]] = {
    "submit": frozenset({S.DRAFT, S.CHANGES_REQUESTED}),
    "withdraw": frozenset(
        {S.DRAFT, S.SCREENING, S.CHANGES_REQUESTED, S.UNDER_REVIEW, S.AWAITING_SIGNATURES}
    ),
    "screen": frozenset({S.SCREENING}),
    "review": frozenset({S.UNDER_REVIEW}),
    "approve": frozenset({S.UNDER_REVIEW}),
    "refuse": frozenset({S.SCREENING, S.CHANGES_REQUESTED, S.UNDER_REVIEW, S.AWAITING_SIGNATURES}),
    "revoke": frozenset({S.AWAITING_SIGNATURES, S.ACTIVE}),
}
SCREEN_OUTCOMES = ("accept", "return")
RETURN_REASONS = {
    "clarification": "Clarification needed",
    "outside_mandate": "Outside the portal's mandate",
}


def _check(
    session: Session,
    user: User,
    action: str,
    request: AccessRequest,
    nation: Nation | None = None,
    *,
    then: Callable[[], None] | None = None,
) -> None:
    """Role first (403), then state (409), then ``then`` (the action's own input checks,
    422), then the Nation's governance conditions (409)."""
    decision = authorize(session, user, action, nation=nation, request=request)
    role_rules = [rule for rule in decision.blocked_by if rule.rule in ("role", "account")]
    if role_rules:
        raise Forbidden(role_rules[0].message)
    if request.status not in ALLOWED_FROM[action]:
        allowed = ", ".join(sorted(s.label.lower() for s in ALLOWED_FROM[action]))
        message = (
            f"This request is {request.status.label.lower()}: it can be {_past(action)} "
            f"only when it is {allowed}."
        )
        raise Refused(message, [BlockingRule("state", message)])
    if then is not None:
        then()
    if not decision.allowed:
        raise Refused(" ".join(rule.message for rule in decision.blocked_by), decision.blocked_by)


def _past(action: str) -> str:
    return {
        "submit": "submitted",
        "withdraw": "withdrawn",
        "screen": "screened",
        "review": "reviewed",
        "approve": "approved",
        "refuse": "refused",
        "revoke": "revoked",
    }[action]


def _own(user: User, request: AccessRequest) -> None:
    if request.researcher_id != user.id:
        raise Forbidden("Only the researcher who filed this request may do this.")


def _nation_of_request(session: Session, request: AccessRequest, nation: Nation | None) -> Nation:
    if nation is None or nation.id not in {n.id for n in nations_of(session, request)}:
        raise ValidationError({"nation": "Name a Nation whose data this request touches."})
    return nation


def _event(session, user, action, request, nations=(), **details) -> None:
    record_event(
        session, action=action, actor=user, request=request, nations=list(nations), details=details
    )


def _set_status(request: AccessRequest, status: RequestStatus) -> None:
    request.status = status
    request.updated_at = utcnow()


def submit(session: Session, user: User, request: AccessRequest) -> AccessRequest:
    _own(user, request)
    fields = snapshot(session, request)

    def complete() -> None:
        if missing := request_fields.missing_for_submission(fields):
            summary = "The request is not complete: " + "; ".join(missing.values())
            raise ValidationError(missing, summary)

    _check(session, user, "submit", request, then=complete)
    request.current_revision += 1
    session.add(
        RequestRevision(
            request_id=request.id,
            number=request.current_revision,
            fields=fields,
            submitted_by_id=user.id,
        )
    )
    _set_status(request, S.SCREENING)
    session.add(request)
    session.flush()
    nations = nations_of(session, request)
    _event(session, user, "request.submitted", request, nations, revision=request.current_revision)
    notices.submitted(session, request)
    return request


def withdraw(session: Session, user: User, request: AccessRequest, reason: str) -> AccessRequest:
    _own(user, request)
    _check(session, user, "withdraw", request)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the request is withdrawn."})
    _set_status(request, S.WITHDRAWN)
    session.add(request)
    _event(
        session,
        user,
        "request.withdrawn",
        request,
        nations_of(session, request),
        reason=reason.strip(),
    )
    notices.withdrawn(session, request, reason.strip())
    return request


def screen(
    session: Session,
    user: User,
    request: AccessRequest,
    outcome: str,
    comment: str = "",
    reason: str | None = None,
) -> AccessRequest:
    _check(session, user, "screen", request)
    if outcome not in SCREEN_OUTCOMES:
        raise ValidationError({"outcome": "Choose accept or return."})
    nations = nations_of(session, request)
    if outcome == "return":
        reason = reason or "clarification"
        if reason not in RETURN_REASONS:
            raise ValidationError({"reason": "Choose clarification or outside_mandate."})
        if not comment.strip():
            raise ValidationError({"comment": "Tell the researcher what to change or why."})
        _set_status(request, S.CHANGES_REQUESTED)
        _event(
            session,
            user,
            "request.returned",
            request,
            nations,
            reason=reason,
            comment=comment.strip(),
        )
        notices.returned(session, request, RETURN_REASONS[reason], comment.strip())
        return request
    for nation in nations:  # every Nation reviews the new revision afresh
        track = track_for(session, request, nation) or NationTrack(
            request_id=request.id, nation_id=nation.id
        )
        track.status = TrackStatus.REVIEW
        track.updated_at = utcnow()
        session.add(track)
    _set_status(request, S.UNDER_REVIEW)
    session.add(request)
    session.flush()
    _event(session, user, "request.screened", request, nations, comment=comment.strip())
    notices.accepted(session, request, nations)
    return request


def review(
    session: Session,
    user: User,
    request: AccessRequest,
    nation: Nation | None,
    *,
    recommendation: str | None,
    comment: str = "",
    criteria: dict[str, Any] | None = None,
    conflict_of_interest: bool = False,
) -> Review:
    nation = _nation_of_request(session, request, nation)
    _check(session, user, "review", request, nation)
    track = track_for(session, request, nation)
    if track is None or track.status not in (TrackStatus.REVIEW, TrackStatus.DECISION):
        message = f"{nation.name} has already decided on this request."
        raise Refused(message, [BlockingRule("state", message)])
    if has_reviewed(session, request, nation, user):
        message = f"You have already reviewed revision {request.current_revision}."
        raise Refused(message, [BlockingRule("one_review_per_steward", message)])
    if conflict_of_interest:
        recommendation = None
    elif recommendation not in {r.value for r in Recommendation}:
        raise ValidationError({"recommendation": "Choose approve, refuse or changes."})
    if recommendation in ("refuse", "changes") and not comment.strip():
        raise ValidationError({"comment": "Explain the recommendation."})
    entry = Review(
        request_id=request.id,
        nation_id=nation.id,
        revision=request.current_revision,
        steward_id=user.id,
        recommendation=recommendation,
        comment=comment.strip(),
        criteria=criteria or {},
        conflict_of_interest=conflict_of_interest,
    )
    session.add(entry)
    session.flush()
    _event(
        session,
        user,
        "review.recorded",
        request,
        [nation],
        recommendation=recommendation,
        conflict_of_interest=conflict_of_interest,
        revision=request.current_revision,
    )
    if recommendation == Recommendation.CHANGES:
        _set_status(request, S.CHANGES_REQUESTED)
        session.add(request)
        _event(
            session, user, "request.changes_requested", request, [nation], comment=comment.strip()
        )
        notices.changes_requested(session, request, nation, comment.strip())
    elif track.status == TrackStatus.REVIEW and tally(session, request, nation).quorum_met:
        track.status = TrackStatus.DECISION
        track.updated_at = utcnow()
        session.add(track)
        notices.ready_for_decision(session, request, nation)
    return entry


def decide(
    session: Session,
    user: User,
    request: AccessRequest,
    nation: Nation | None,
    *,
    outcome: str,
    reason: str = "",
    conditions: list[Any] | None = None,
) -> Decision:
    nation = _nation_of_request(session, request, nation)
    if outcome not in ("approve", "refuse"):
        raise ValidationError({"outcome": "Choose approve or refuse."})
    _check(session, user, outcome, request, nation)
    track = track_for(session, request, nation)
    if outcome == "approve" and (track is None or track.status == TrackStatus.APPROVED):
        message = f"{nation.name} has already approved this revision."
        raise Refused(message, [BlockingRule("state", message)])
    if outcome == "refuse" and not reason.strip():
        raise ValidationError({"reason": "Give the reason for refusing; the researcher sees it."})
    chosen = _conditions(conditions or [], nation, request)
    decision = Decision(
        request_id=request.id,
        nation_id=nation.id,
        revision=request.current_revision,
        representative_id=user.id,
        outcome=Outcome(outcome),
        reason=reason.strip(),
        conditions=chosen if outcome == "approve" else [],
    )
    session.add(decision)
    if track is None:  # refusing before screening opened the Nation's track
        track = NationTrack(request_id=request.id, nation_id=nation.id)
    track.status = TrackStatus.APPROVED if outcome == "approve" else TrackStatus.REFUSED
    track.updated_at = utcnow()
    session.add(track)
    session.flush()
    _event(
        session,
        user,
        f"decision.{track.status.value}",
        request,
        [nation],
        reason=reason.strip(),
        conditions=decision.conditions,
    )
    if outcome == "refuse":
        _set_status(request, S.REFUSED)
        notices.refused(session, request, nation, reason.strip())
    elif all(t.status == TrackStatus.APPROVED for t, _ in tracks_of(session, request)):
        _set_status(request, S.AWAITING_SIGNATURES)
        notices.all_approved(session, request)
    else:
        notices.approved(session, request, nation)
    session.add(request)
    session.flush()
    return decision


def _conditions(items: list[Any], nation: Nation, request: AccessRequest) -> list[dict]:
    """Standard conditions by code, free-text ones as text: [{code, text}]."""
    chosen = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValidationError({"conditions": "Each condition is a code or a sentence."})
        item = item.strip()
        if item in STANDARD_CONDITIONS:
            chosen.append(
                {"code": item, "text": condition_text(item, nation, request.storage_location)}
            )
        else:
            chosen.append({"code": "custom", "text": item})
    return chosen


def revoke(
    session: Session, user: User, request: AccessRequest, nation: Nation | None, reason: str
) -> AccessRequest:
    nation = _nation_of_request(session, request, nation)
    _check(session, user, "revoke", request, nation)
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for revoking."})
    track = track_for(session, request, nation)
    if track is None:
        raise NotFound("no such track")
    track.status = TrackStatus.REVOKED
    track.updated_at = utcnow()
    session.add(track)
    _set_status(request, S.REVOKED)
    session.add(request)
    session.flush()
    _event(session, user, "request.revoked", request, [nation], reason=reason.strip())
    notices.revoked(session, request, nation, reason.strip())
    return request
