"""The request workflow: every transition goes through here (pages, API and CLI).

Each transition, in order: lock the request; may this person do this at all (the
Casbin enforcer: 403)? is it allowed in the current state (409, rule "state")? do the
governance conditions the Nation's policy attaches hold (409, the rules by name)?
Then change, record the audit event and queue the notifications in the same
transaction. Nothing here ever happens because time passed: silence is never consent.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlmodel import Session, select

from portal.agreements import parties
from portal.agreements import service as agreements
from portal.agreements.models import Agreement, AgreementStatus
from portal.audit.service import record_event
from portal.auth.models import User
from portal.auth.passwords import verify_password
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
    "sign": frozenset({S.AWAITING_SIGNATURES}),
    "revoke": frozenset({S.AWAITING_SIGNATURES, S.ACTIVE}),
    "expire": frozenset({S.ACTIVE}),
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
    if forbidden := decision.forbidden_by:
        raise Forbidden(forbidden.message)
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
        "sign": "signed",
        "revoke": "revoked",
        "expire": "expired",
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


def _move_track(session: Session, track: NationTrack, status: TrackStatus) -> None:
    track.status = status
    track.updated_at = utcnow()
    session.add(track)


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
    agreements.mark(session, request, AgreementStatus.VOID)
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
        _move_track(session, track, TrackStatus.REVIEW)
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
    if track is None or not track.status.is_open:
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
        _move_track(session, track, TrackStatus.DECISION)
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
    _move_track(
        session, track, TrackStatus.APPROVED if outcome == "approve" else TrackStatus.REFUSED
    )
    session.flush()
    everyone_approved = outcome == "approve" and all(
        t.status == TrackStatus.APPROVED for t, _ in tracks_of(session, request)
    )
    # The agreement is written in the same transaction as the last approval; its
    # digest goes into that approval's event (one event per transition).
    agreement = agreements.issue(session, request) if everyone_approved else None
    _event(
        session,
        user,
        f"decision.{track.status.value}",
        request,
        [nation],
        reason=reason.strip(),
        conditions=decision.conditions,
        **({"agreement_sha256": agreement.sha256} if agreement else {}),
    )
    if outcome == "refuse":
        _set_status(request, S.REFUSED)
        agreements.mark(session, request, AgreementStatus.VOID)
        notices.refused(session, request, nation, reason.strip())
    elif everyone_approved:
        _set_status(request, S.AWAITING_SIGNATURES)
        notices.all_approved(session, request)
        notices.to_sign(session, request, parties.approving_nations(session, request))
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
    _move_track(session, track, TrackStatus.REVOKED)
    _set_status(request, S.REVOKED)
    session.add(request)
    agreements.mark(session, request, AgreementStatus.REVOKED)
    session.flush()
    _event(session, user, "request.revoked", request, [nation], reason=reason.strip())
    notices.revoked(session, request, nation, reason.strip())
    return request


def sign(
    session: Session,
    user: User,
    request: AccessRequest,
    password: str,
    nation: Nation | None = None,
) -> AccessRequest:
    """Sign the agreement as a party: the researcher, or a representative of an
    approving Nation (for that Nation, once). The password is asked again; the last
    signature makes the request active."""
    agreement = agreements.current(session, request)
    signed = {s.party for s in agreements.signatures_of(session, agreement)} if agreement else set()
    party = parties.party_for(session, user, request, signed, nation)
    _check(session, user, "sign", request, party.nation if party else None)
    if party is None or agreement is None:
        raise Forbidden("Only the researcher and a representative of each approving Nation sign.")
    if party.key in signed:
        who = "the researcher" if party.nation is None else party.nation.name
        message = f"The agreement is signed for {who} already; each party signs once."
        raise Refused(message, [BlockingRule("one_signature_per_party", message)])
    if not verify_password(user.password_hash, password or ""):
        raise ValidationError({"password": "The password is not right; nothing was signed."})
    signature = agreements.add_signature(session, user, request, agreement, party)
    everyone = parties.parties_of(session, request)
    complete = {p.key for p in everyone} <= signed | {party.key}
    if complete:
        _set_status(request, S.ACTIVE)
        agreements.mark(session, request, AgreementStatus.ACTIVE)
        session.add(request)
        session.flush()
    nations = [p.nation for p in everyone if p.nation]
    _event(
        session,
        user,
        "agreement.signed",
        request,
        nations,
        party=party.key,
        field=signature.field_name,
        sha256=signature.sha256_after,
        version=agreement.version,
        activated=complete,
    )
    if complete:
        notices.active(session, request, nations)
    return request


def expire(session: Session, request: AccessRequest, today: date) -> AccessRequest:
    """End access at the end of the term (run by `portal agreements expire`, as the
    system: nobody's action). Time only ever ends access; it never grants it."""
    agreement = agreements.current(session, request)
    if request.status not in ALLOWED_FROM["expire"] or agreement is None:
        message = "Only an active request with an agreement expires."
        raise Refused(message, [BlockingRule("state", message)])
    if agreement.term_end > today:
        message = f"The agreement runs until {agreement.term_end}."
        raise Refused(message, [BlockingRule("term", message)])
    _set_status(request, S.EXPIRED)
    session.add(request)
    agreements.mark(session, request, AgreementStatus.EXPIRED)
    nations = parties.approving_nations(session, request)
    record_event(
        session,
        action="request.expired",
        actor=None,
        request=request,
        nations=nations,
        details={"term_end": str(agreement.term_end)},
    )
    notices.expired(session, request, nations)
    return request


def expire_due(session: Session, today: date) -> list[str]:
    """Expire every active request whose agreement's term has ended; their refs."""
    due = session.exec(
        select(AccessRequest)
        .join(Agreement, Agreement.request_id == AccessRequest.id)
        .where(AccessRequest.status == S.ACTIVE, Agreement.term_end <= today)
        .order_by(AccessRequest.id)
        .with_for_update(of=AccessRequest)
    ).all()
    return [expire(session, request, today).ref for request in due]
