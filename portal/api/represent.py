"""The portal's objects as the API shows them (the response models of schemas.py).

A request's tracks, reviews, decisions, next steps and allowed actions come from the
same overview the request page uses (portal.transparency.overview), so the two never
tell different stories, and both keep each Nation's deliberations its own.
"""

from sqlmodel import Session

from portal.agreements import service as agreements
from portal.api import PREFIX, schemas
from portal.auth.models import User
from portal.auth.service import roles_of
from portal.registry.models import Dataset, Nation
from portal.registry.names import NAME_FIELDS
from portal.registry.service import governance_profile
from portal.requests.models import AccessRequest
from portal.transparency.conversations import ShownMessage
from portal.transparency.ending import end_of_access
from portal.transparency.obligations import ShownObligation
from portal.transparency.outputs import OutputSeen
from portal.transparency.overview import TrackView, overview
from portal.transparency.privacy import ShownEvent
from portal.workflow import Option, messaging


def me(session: Session, user: User) -> schemas.MeOut:
    return schemas.MeOut(
        email=user.email,
        name=user.name,
        institution=user.institution,
        roles=[
            schemas.RoleOut(role=role, nation=nation.slug if nation else None)
            for role, nation in roles_of(session, user)
        ],
    )


def nation(item: Nation) -> schemas.NationOut:
    names = {name: getattr(item, name) for name in NAME_FIELDS}
    return schemas.NationOut(
        slug=item.slug,
        name=item.name,
        **names,
        **governance_profile(item),
        member_since=item.admitted_at,
    )


def dataset(item: Dataset, nations: list[Nation], labels: list | None = None) -> schemas.DatasetOut:
    """``labels``: its [(row, label, nation)] (registry.labels.labels_of)."""
    return schemas.DatasetOut(
        slug=item.slug,
        title=item.title,
        **{name: getattr(item, name) for name in NAME_FIELDS},
        custodian=item.custodian,
        description=item.description,
        nations=[n.slug for n in nations],
        labels=[
            schemas.LabelOut(
                nation=by.slug, code=label.code, name=label.name, kind=label.kind,
                wording=row.wording, description=label.description, hub_url=row.hub_url,
            )
            for row, label, by in labels or []
        ],
    )  # fmt: skip


def _person(session: Session, user_id: int) -> schemas.PersonOut:
    user = session.get(User, user_id)
    return schemas.PersonOut(name=user.name, email=user.email)


def summary(session: Session, req: AccessRequest) -> schemas.RequestSummaryOut:
    return schemas.RequestSummaryOut(
        ref=req.ref,
        status=req.status,
        revision=req.current_revision,
        title=req.title,
        researcher=_person(session, req.researcher_id),
        created_at=req.created_at,
        updated_at=req.updated_at,
    )


def _track(session: Session, view: TrackView) -> schemas.TrackOut:
    """A Nation's part as the caller may read it: its status for everyone; its reviews
    for its own people only; its decision for them and the researcher (invariant 9)."""
    decision = view.decision
    return schemas.TrackOut(
        nation=view.nation.slug,
        nation_name=view.nation.name,
        status=view.track.status,
        quorum=view.tally.quorum,
        reviews_counted=view.tally.counted,
        stalled=view.stalled if view.insider else None,
        reviews=[
            schemas.ReviewOut(
                steward=steward.name,
                revision=review.revision,
                recommendation=review.recommendation,
                conflict_of_interest=review.conflict_of_interest,
                comment=review.comment,
                criteria=review.criteria,
                created_at=review.created_at,
            )
            for review, steward in view.reviews
        ]
        if view.insider
        else None,
        changes_requested=[
            schemas.ChangesOut(revision=r.revision, comment=r.comment) for r in view.changes_asked
        ],
        decision=None
        if decision is None
        else schemas.DecisionOut(
            outcome=decision.outcome,
            revision=decision.revision,
            representative=session.get(User, decision.representative_id).name
            if view.insider
            else None,
            reason=decision.reason,
            conditions=decision.conditions,
            decided_at=decision.decided_at,
            rules_version=decision.rules_version,
        ),
    )


def allowed(option: Option) -> schemas.AllowedActionOut:
    return schemas.AllowedActionOut(
        action=option.action,
        nation=option.nation.slug if option.nation else None,
        obligation=option.obligation,
        blocked_by=[{"rule": r.rule, "message": r.message} for r in option.blocked_by],
    )


def _messages(session: Session, user: User, req: AccessRequest) -> list[schemas.AllowedActionOut]:
    """``message``, once for each thread the caller may write in (messaging decides)."""
    return [
        schemas.AllowedActionOut(
            action="message",
            nation=thread.nation.slug if thread.nation else None,
            channel=thread.channel.value,
            blocked_by=[],
        )
        for thread in messaging.readable_threads(session, user, req)
    ]


def request(session: Session, user: User, req: AccessRequest) -> schemas.RequestOut:
    """The whole request as ``user`` may see it."""
    view = overview(session, user, req, with_timeline=False)
    return schemas.RequestOut(
        ref=req.ref,
        status=req.status,
        revision=req.current_revision,
        unsubmitted=view.unsubmitted,
        researcher=schemas.PersonOut(name=view.researcher.name, email=view.researcher.email),
        created_at=req.created_at,
        updated_at=req.updated_at,
        **view.fields,
        nations=[n.slug for n in view.nations],
        tracks=[_track(session, track) for track in view.tracks],
        next_steps=view.next_steps,
        allowed_actions=[allowed(option) for option in view.options]
        + _messages(session, user, req),
        agreement=_agreement(session, req),
        amendment=_amendment(req, view.amendment_changes),
        end=_end(session, user, req),
        obligations=[_obligation(shown, req.ref) for shown in view.obligations],
        outputs=[_output(req, seen) for seen in view.outputs],
    )


def _output(req: AccessRequest, seen: OutputSeen) -> schemas.OutputOut:
    output = seen.output
    file = f"{PREFIX}/requests/{req.ref}/outputs/{output.id}/file"
    return schemas.OutputOut(
        id=output.id,
        title=output.title,
        venue=output.venue,
        filename=output.filename,
        media_type=output.media_type,
        size=output.size,
        sha256=output.sha256,
        status=output.status.value,
        submitted_at=output.submitted_at,
        settled_at=output.settled_at,
        file=file if seen.may_download else None,
        nations=[
            schemas.OutputNationOut(
                nation=part.nation.slug,
                status=part.track.status.value,
                asked_by=part.track.asked_by,
                findings=part.findings,
                reason=part.reason,
                reviews_counted=part.tally.counted if part.tally else None,
                quorum=part.tally.quorum if part.tally else None,
            )
            for part in seen.parts
        ],
    )


def _obligation(shown: ShownObligation, ref: str) -> schemas.ObligationOut:
    """An obligation as the caller may read it (portal.transparency.obligations)."""
    item, reads = shown.obligation, shown.text is not None
    return schemas.ObligationOut(
        id=item.id,
        nation=shown.nation.slug,
        source=item.source if reads else None,
        text=shown.text,
        due=shown.due,
        next_due=item.next_due,
        overdue=shown.overdue,
        state=item.state.value,
        superseded_by=item.superseded_by,
        report=shown.report,
        reported_at=item.reported_at if reads else None,
        report_file=f"{PREFIX}/requests/{ref}/obligations/{item.id}/file"
        if shown.report_file
        else None,
        assessment_comment=shown.comment,
        assessed_at=item.assessed_at,
    )


def _amendment(req: AccessRequest, changes: list[tuple]) -> schemas.AmendmentOut | None:
    if req.amendment is None:
        return None
    changed = [name for name, *_ in changes]
    return schemas.AmendmentOut(phase=req.amendment, kind=req.amendment_kind, changed=changed)


def _end(session: Session, user: User, req: AccessRequest) -> dict | None:
    found = end_of_access(session, user, req)
    if found is not None and found["attestations"]:
        found["attestation_pdf"] = f"{PREFIX}/requests/{req.ref}/attestation.pdf"
    return found


def _agreement(session: Session, req: AccessRequest) -> dict | None:
    """Where the agreement stands: its term, its current version and who has signed."""
    agreement = agreements.current(session, req)
    if agreement is None:
        return None
    waiting = agreements.pending(session, req)
    return {
        # A renewal's or amendment's edition awaiting signatures (the one above binds).
        "pending": _agreement_fields(session, req, waiting) if waiting else None,
        **_agreement_fields(session, req, agreement),
    }


def _agreement_fields(session: Session, req: AccessRequest, agreement) -> dict:
    signatures = agreements.signatures_of(session, agreement)
    return {
        "edition": agreement.edition,
        "status": agreement.status.value,
        "language": agreement.language,
        "version": agreement.version,
        "sha256": agreement.sha256,
        "rules_version": agreement.rules_version,
        "term_start": agreement.term_start.isoformat(),
        "term_end": agreement.term_end.isoformat(),
        "signatures": [
            {"party": sig.party, "role": sig.role, "signed_at": sig.signed_at.isoformat()}
            for sig in signatures
        ],
        "pdf": f"{PREFIX}/requests/{req.ref}/agreement.pdf"
        + (f"?edition={agreement.edition}" if agreement.edition > 1 else ""),
    }


def event(shown: ShownEvent) -> schemas.EventOut:
    """An event as the caller may read it; a withheld one carries no hashes (they
    would let its hidden content be guessed and checked)."""
    item = shown.event
    return schemas.EventOut(
        id=item.id,
        occurred_at=item.occurred_at,
        action=item.action,
        actor=shown.actor,
        details=shown.details,
        withheld=shown.withheld,
        hash=None if shown.withheld else item.hash,
        prev_hash=None if shown.withheld else item.prev_hash,
    )


def message(shown: ShownMessage) -> schemas.MessageOut:
    item = shown.message
    return schemas.MessageOut(
        id=item.id, written_at=item.created_at, author=shown.author, body=item.body
    )
