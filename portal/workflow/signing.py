"""After the Nations decide: the parties sign, a Nation revokes, the term ends.

Signing is slow (pyHanko), so the adapters sign ahead (``sign_ahead``, through
perform_ahead) from what they read outside the write transaction; perform() then
refuses the signature, writing nothing, if the agreement changed since
(``changed_while_signing``).
"""

from dataclasses import replace
from datetime import date

from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.agreements import parties
from portal.agreements import service as agreements
from portal.agreements.models import Agreement, AgreementStatus
from portal.audit.events import EventType
from portal.auth.passwords import verify_password
from portal.errors import BlockingRule, Forbidden, ValidationError
from portal.lifecycle import attestations
from portal.lifecycle import service as lifecycle
from portal.requests.models import AccessRequest, RequestStatus
from portal.reviews.models import TrackStatus
from portal.reviews.service import track_for
from portal.workflow import amending
from portal.workflow.commands import Expire, Revoke, Sign
from portal.workflow.context import Context

S = RequestStatus


def resolve_party(ctx: Context, command: Sign) -> None:
    """Which party the person signs for: the researcher's place, or the named (or only
    unsigned) approving Nation they represent. Sets the Nation the policy is asked in."""
    agreement = agreements.to_sign(ctx.session, ctx.request)  # a pending edition first
    signed = agreements.signed_parties(ctx.session, agreement)
    party = None
    if agreement is not None:
        party = parties.party_for(ctx.session, ctx.actor, ctx.request, signed, ctx.nation)
    ctx.extra.update(agreement=agreement, signed=signed, party=party)
    ctx.nation = party.nation if party else None


def guard_sign(ctx: Context, command: Sign) -> BlockingRule | None:
    party = ctx.extra["party"]
    if party is None:
        raise Forbidden(
            _("Only the researcher and a representative of each approving Nation sign.")
        )
    if party.key in ctx.extra["signed"]:
        if party.nation is None:
            message = _(
                "The agreement is signed for the researcher already; each party signs once."
            )
        else:
            message = _(
                "The agreement is signed for %(nation)s already; each party signs once.",
                nation=party.nation.name,
            )
        return BlockingRule("one_signature_per_party", message)
    signed = command.signed
    if signed is not None and not (
        agreements.still_current(ctx.extra["agreement"], signed)
        and signed.party == party.key
        and signed.signer_id == ctx.actor.id
    ):
        message = _(
            "The agreement changed while you were signing it (another party signed, or "
            "it was reissued); nothing was signed. Read it again and sign the new version."
        )
        return BlockingRule("changed_while_signing", message)
    return None


def validate_sign(ctx: Context, command: Sign) -> None:
    if command.signed is not None and command.signed.signer_id == ctx.actor.id:
        return  # sign_ahead asked for the password before it signed (argon2 is slow too)
    if not verify_password(ctx.actor.password_hash, command.password or ""):
        raise ValidationError({"password": _("The password is not right; nothing was signed.")})


def sign_ahead(ctx: Context, command: Sign) -> Sign:
    """The signature, computed from what the adapter read (every check passed, the
    password too) and carried in the command to perform()'s write transaction."""
    signed = agreements.sign_document(
        ctx.session, ctx.actor, ctx.request, ctx.extra["agreement"], ctx.extra["party"]
    )
    return replace(command, signed=signed)


def sign(ctx: Context, command: Sign) -> None:
    """The last signature makes the request active."""
    agreement, party = ctx.extra["agreement"], ctx.extra["party"]
    signature = agreements.add_signature(
        ctx.session, ctx.actor, ctx.request, agreement, party, command.signed
    )
    everyone = parties.parties_of(ctx.session, ctx.request)
    complete = {p.key for p in everyone} <= ctx.extra["signed"] | {party.key}
    obligations = []
    amended = complete and ctx.request.amendment is not None
    if complete and not amended:
        ctx.set_status(S.ACTIVE)
        agreements.take_effect(ctx.session, ctx.request, agreement)
        # Every Nation's conditions become obligations as access begins, in this
        # transaction: access never starts without them.
        obligations = lifecycle.create_for(
            ctx.session, ctx.request, agreement.term_start, agreement.term_end
        )
        ctx.session.flush()
    nations = [p.nation for p in everyone if p.nation]
    ctx.event(
        EventType.AGREEMENT_SIGNED,
        nations,
        party=party.key,
        field=signature.field_name,
        sha256=signature.sha256_after,
        version=agreement.version,
        edition=agreement.edition,
        activated=complete,
        **({"obligations": len(obligations)} if complete and not amended else {}),
    )
    if amended:  # a renewal's or amendment's edition replaces the one in force
        amending.take_effect(ctx, agreement)
    elif complete:
        ctx.tell("active", nations=nations)


def guard_revoke(ctx: Context, command: Revoke) -> BlockingRule | None:
    """A Nation revokes its approval: one of the current revision's, or, while an
    amendment is reviewed afresh, its part in the edition in force."""
    if attestations.ending_of(ctx.session, ctx.request) is not None:  # closed early
        message = _(
            "Access has ended already: there is nothing left to revoke. The researcher's "
            "destruction attestation is due, and %(nation)s answers it.",
            nation=ctx.nation.name,
        )
        return BlockingRule("state", message)
    track = track_for(ctx.session, ctx.request, ctx.nation)
    if ctx.request.amendment is not None:  # a Nation joining refuses the amendment instead
        holds = ctx.nation.id in {n.id for n in parties.approving_nations(ctx.session, ctx.request)}
    else:
        holds = track is not None and track.status == TrackStatus.APPROVED
    if track is None or track.status == TrackStatus.REVOKED or not holds:
        message = _("%(nation)s has no approval on this request to revoke.", nation=ctx.nation.name)
        return BlockingRule("state", message)
    return None


def validate_revoke(ctx: Context, command: Revoke) -> None:
    if not command.reason.strip():
        raise ValidationError({"reason": _("Give the reason for revoking.")})


def revoke(ctx: Context, command: Revoke) -> None:
    reason = command.reason.strip()
    was_active = ctx.request.status == S.ACTIVE  # access had started: its custodians hear
    if ctx.request.status is S.ACTIVE:  # data was released: its destruction is now due
        attestations.record_ending(ctx.session, ctx.request, "revoked")
    amending.cancel(ctx, "revoked")  # an amendment in progress ends with access
    ctx.move_track(track_for(ctx.session, ctx.request, ctx.nation), TrackStatus.REVOKED)
    ctx.set_status(S.REVOKED)
    agreements.mark(ctx.session, ctx.request, AgreementStatus.REVOKED)
    lifecycle.ends_now(ctx.session, ctx.request, date.today())  # return or destroy at once
    ctx.session.flush()
    ctx.event(EventType.REQUEST_REVOKED, [ctx.nation], reason=reason)
    ctx.tell("revoked", nation=ctx.nation, reason=reason, was_active=was_active)


def guard_expire(ctx: Context, command: Expire) -> BlockingRule | None:
    """Time only ever ends access; it never grants it (invariant 3)."""
    agreement = agreements.current(ctx.session, ctx.request)
    if agreement is None:
        return BlockingRule("state", _("Only an active request with an agreement expires."))
    if agreement.term_end > command.today:
        return BlockingRule(
            "term", _("The agreement runs until %(date)s.", date=agreement.term_end)
        )
    ctx.extra["agreement"] = agreement
    return None


def expire(ctx: Context, command: Expire) -> None:
    agreement = ctx.extra["agreement"]
    amending.cancel(ctx, "expired")  # nothing renews by itself: a pending edition is void
    ctx.set_status(S.EXPIRED)
    attestations.record_ending(ctx.session, ctx.request, "expired")
    agreements.mark(ctx.session, ctx.request, AgreementStatus.EXPIRED)
    nations = parties.approving_nations(ctx.session, ctx.request)
    ctx.event(EventType.REQUEST_EXPIRED, nations, term_end=str(agreement.term_end))
    ctx.tell("expired", nations=nations)


def due_for_expiry(session: Session, today: date) -> list[str]:
    """The refs of active requests whose agreement's term has ended."""
    return list(
        session.exec(
            select(AccessRequest.ref)
            .join(Agreement, Agreement.request_id == AccessRequest.id)
            .where(
                AccessRequest.status == S.ACTIVE,
                Agreement.status == AgreementStatus.ACTIVE,  # the edition in force
                Agreement.term_end <= today,
            )
            .order_by(AccessRequest.id)
        )
    )
