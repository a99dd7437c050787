"""Renewal and amendment of an active request (issue 11, part 3).

The researcher opens one (``renew`` or ``amend``); the request stays ``active`` under
the agreement in force while the amendment walks the pipeline in its own phase
(``AccessRequest.amendment``, read by the transition table through ``request.phase``):
edit, submit (a new revision: a Nation whose data is dropped leaves), screen, review and
decide with the existing commands. Every Nation concerned approving issues a new edition
(agreements.issue); its last signature makes it the one in force (``take_effect``). A
refusal or the researcher withdrawing ends the amendment only (``end``); revocation,
expiry or closing early end access and void the pending edition (``cancel``). Nothing
renews by itself: expiry still comes at the term end of the edition in force.
"""

from datetime import date

from flask_babel import gettext as _
from sqlmodel import select

from portal.agreements import editions, parties
from portal.agreements import service as agreements
from portal.agreements.models import Agreement, AgreementStatus
from portal.audit.events import EventType
from portal.errors import BlockingRule, ValidationError
from portal.lifecycle import attestations
from portal.lifecycle import service as lifecycle
from portal.notify.models import ExpiryNotice
from portal.requests import service
from portal.requests.models import AmendmentKind, AmendmentPhase, RequestStatus
from portal.reviews.models import TrackStatus
from portal.reviews.service import tracks_of
from portal.workflow import outputs
from portal.workflow.commands import Amend, Renew
from portal.workflow.context import Context

MAX_REASON = 5000


def guard_open(ctx: Context, command: Renew | Amend) -> BlockingRule | None:
    """One at a time, before the term ends, while access lasts."""
    request = ctx.request
    if request.amendment is not None:
        phase = request.amendment.label.lower()
        if request.amendment_kind == AmendmentKind.RENEW:
            message = _("A renewal of this request is in progress (%(phase)s).", phase=phase)
        else:
            message = _("An amendment of this request is in progress (%(phase)s).", phase=phase)
        return BlockingRule("amendment_in_progress", message)
    if attestations.ending_of(ctx.session, request) is not None:
        return BlockingRule("state", _("Access has ended: a new request is needed."))
    agreement = agreements.current(ctx.session, request)
    if agreement is None or agreement.term_end <= date.today():
        return BlockingRule("term", _("The agreement's term has ended: it cannot be renewed."))
    return None


def validate_open(ctx: Context, command: Renew | Amend) -> None:
    reason = command.reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say what the renewal or amendment is for.")})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": _("At most %(limit)s characters.", limit=MAX_REASON)})
    if "\x00" in reason:  # PostgreSQL cannot store it; nobody types it
        raise ValidationError({"reason": _("Must not contain NUL characters.")})


def open_amendment(ctx: Context, command: Renew | Amend) -> None:
    """Open the amendment as a draft of the request's fields, for its researcher."""
    request = ctx.request
    request.amendment_kind = AmendmentKind(command.name)
    request.amendment = AmendmentPhase.DRAFT
    request.team_in_force = list(request.team or [])  # on the requesting side till it ends
    ctx.set_status(RequestStatus.DRAFT)  # the amendment's phase: the request stays active
    nations = parties.approving_nations(ctx.session, request)
    ctx.event(EventType.AMENDMENT_OPENED, nations, what=command.name, reason=command.reason.strip())


def take_effect(ctx: Context, agreement: Agreement) -> list:
    """The last party signed the pending edition: it is in force, the one before is
    superseded, the amendment is over. New obligations come from the new decisions'
    conditions and supersede what the old edition still asked (lifecycle.supersede);
    custodians hear ``access.changed``, and those of a dataset the new revision dropped
    hear ``access.ended``. A Nation dropped stops counting on the outputs in review."""
    request, session = ctx.request, ctx.session
    before = agreements.current(session, request)
    dropped = _datasets_dropped(ctx, before)
    superseded = agreements.take_effect(session, request, agreement)
    if before is not None and before.term_end != agreement.term_end:
        _forget_expiry_notices(ctx)
    kind = request.amendment_kind
    _clear(ctx)
    replaced = lifecycle.supersede(session, request, agreement.edition, date.today())
    obligations = lifecycle.create_for(session, request, agreement.term_start, agreement.term_end)
    session.flush()
    outputs.end_dropped(ctx)
    nations = parties.approving_nations(session, request)
    ctx.event(
        EventType.AMENDMENT_IN_FORCE,
        nations,
        what=kind.value if kind else None,
        edition=agreement.edition,
        superseded=superseded.edition if superseded else None,
        term_end=str(agreement.term_end),
        obligations=len(obligations),
        obligations_superseded=len(replaced),
    )
    ctx.tell("access_changed", nations=nations, dropped=dropped)
    return obligations


def end(ctx: Context, outcome: str, reason: str = "", nation=None) -> None:
    """The amendment ends without effect (refused by a Nation, withdrawn): the request
    stays active under the edition in force, as it was before the amendment."""
    kind = _restore(ctx)
    nations = parties.approving_nations(ctx.session, ctx.request)
    details = {"reason": reason} if outcome == "withdrawn" else {}
    ctx.event(EventType.AMENDMENT_ENDED, nations, what=kind, outcome=outcome, **details)
    ctx.tell("amendment_ended", outcome=outcome, nation=nation, reason=reason, what=kind)


def cancel(ctx: Context, outcome: str) -> None:
    """Access ends (revoked, expired, closed early) during an amendment: the amendment
    ends with it and its pending edition is void. Called before the status changes."""
    if ctx.request.amendment is None:
        return
    kind = _restore(ctx)
    nations = parties.approving_nations(ctx.session, ctx.request)
    ctx.event(EventType.AMENDMENT_ENDED, nations, what=kind, outcome=outcome)


def _restore(ctx: Context) -> str | None:
    """Void the pending edition, put back the fields and each Nation's part of the
    edition in force (the amendment's revision stays in the history), and clear it."""
    session, request = ctx.session, ctx.request
    if (waiting := agreements.pending(session, request)) is not None:
        agreements.mark_edition(session, waiting, AgreementStatus.VOID)
    in_force = agreements.current(session, request)
    # As they were submitted (checked then): nothing here may refuse an end of access.
    values = _revision_fields(ctx, in_force.revision)
    slugs = values.pop("datasets", None) or []
    service.apply_fields(session, request, values, service.datasets_named(session, slugs))
    party_ids = {n.id for n in editions.signing_nations(session, in_force)}
    for track, nation in tracks_of(session, request):
        if track.status == TrackStatus.REVOKED:
            continue
        wanted = TrackStatus.APPROVED if nation.id in party_ids else TrackStatus.ENDED
        if track.status != wanted or track.revision != in_force.revision:
            ctx.move_track(track, wanted, in_force.revision)
    kind = request.amendment_kind
    _clear(ctx)
    return kind.value if kind else None


def _clear(ctx: Context) -> None:
    ctx.request.team_in_force = None
    ctx.request.amendment = None
    ctx.request.amendment_kind = None
    ctx.set_status(ctx.request.status)
    ctx.session.flush()


def _revision_fields(ctx: Context, number: int) -> dict:
    found = [r for r in service.revisions_of(ctx.session, ctx.request) if r.number == number]
    return dict(found[0].fields) if found else {}


def _datasets_dropped(ctx: Context, before: Agreement | None) -> list[str]:
    """The slugs of the datasets of the edition in force that the new revision drops."""
    if before is None:
        return []
    was = set(_revision_fields(ctx, before.revision).get("datasets") or [])
    now = {d.slug for d in service.datasets_of(ctx.session, ctx.request)}
    return sorted(was - now)


def _forget_expiry_notices(ctx: Context) -> None:
    """A new term: the notices sent about the old term's end (workflow/expiry_notices.py
    sends each once) are forgotten, so the new term's are sent in their time."""
    query = select(ExpiryNotice).where(ExpiryNotice.request_id == ctx.request.id)
    for notice in ctx.session.exec(query):
        ctx.session.delete(notice)
