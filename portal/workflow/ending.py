"""The end of access (issue 11, part 4): the researcher closes early; after any end
(revocation, expiry, closing early) the researcher attests the data's destruction; each
Nation concerned acknowledges it or asks for more; when all acknowledged, the request
is ``closed`` in that same transaction.

Closing early keeps the contract's states: the request stays ``active`` with an
``AccessEnding`` (access ended, attestation due) until every Nation acknowledged.
The notices named here (ctx.tell) are where custodian notices hook in:
``access_ended``, ``destruction_attested``, ``destruction_answered`` and ``closed``.
"""

from dataclasses import replace
from datetime import date

from flask_babel import gettext as _

from portal.agreements import parties
from portal.agreements import service as agreements
from portal.agreements.models import AgreementStatus
from portal.audit.events import EventType
from portal.auth.passwords import verify_password
from portal.errors import BlockingRule, ValidationError
from portal.lifecycle import attestations
from portal.lifecycle import service as lifecycle
from portal.lifecycle.attestation_models import ACK_OUTCOMES
from portal.requests.models import RequestStatus
from portal.validation import day
from portal.workflow import amending
from portal.workflow.commands import AcknowledgeDestruction, AttestDestruction, Close
from portal.workflow.context import Context

S = RequestStatus
# After access ends the request may be any of these until it is closed.
ENDED_FROM = frozenset({S.ACTIVE, S.REVOKED, S.EXPIRED})
MAX_TEXT = 5000
MAX_WHO = 300


def guard_close(ctx: Context, command: Close) -> BlockingRule | None:
    if attestations.ending_of(ctx.session, ctx.request) is not None:
        return BlockingRule(
            "state", _("Access has ended already; a destruction attestation is due.")
        )
    return None


def validate_close(ctx: Context, command: Close) -> None:
    if len(command.reason) > MAX_TEXT:
        raise ValidationError({"reason": _("At most %(limit)s characters.", limit=MAX_TEXT)})


def close(ctx: Context, command: Close) -> None:
    """Access ends at once; the request becomes closed once the Nations acknowledge."""
    amending.cancel(ctx, "closed")  # an amendment in progress ends with access
    ending = attestations.record_ending(ctx.session, ctx.request, "closed_early")
    lifecycle.ends_now(ctx.session, ctx.request, date.today())  # return or destroy at once
    agreements.mark(ctx.session, ctx.request, AgreementStatus.ENDED)  # no longer in force
    nations = parties.approving_nations(ctx.session, ctx.request)
    ctx.event(EventType.REQUEST_ENDED, nations, reason=command.reason.strip())
    ctx.tell("access_ended", nations=nations, ending=ending)


def guard_attest(ctx: Context, command: AttestDestruction) -> BlockingRule | None:
    if attestations.ending_of(ctx.session, ctx.request) is None:
        return BlockingRule("state", _("Access has not ended: there is nothing to attest yet."))
    if not attestations.attestation_awaited(ctx.session, ctx.request):
        message = _(
            "The attestation is with the Nations; a new one is due only if one asks for more."
        )
        return BlockingRule("attestation_not_due", message)
    prepared = command.prepared
    if prepared is not None and not attestations.still_says(
        ctx.session, ctx.actor, ctx.request, prepared
    ):
        message = _(
            "The request changed while your attestation was being signed (another "
            "attestation was made, or a Nation answered); nothing was signed. Sign it again."
        )
        return BlockingRule("changed_while_signing", message)
    return None


def _text(errors: dict, name: str, value: str, missing: str, limit: int = MAX_TEXT) -> str:
    """``missing``: what to say when the field is empty."""
    value = (value or "").strip()
    if not value:
        errors[name] = missing
    elif len(value) > limit:
        errors[name] = _("At most %(limit)s characters.", limit=limit)
    return value


def validate_attest(ctx: Context, command: AttestDestruction) -> None:
    errors: dict[str, str] = {}
    fields = {
        "what": _text(errors, "what", command.what, _("Say what was destroyed or returned.")),
        "method": _text(
            errors, "method", command.method, _("Say how it was destroyed or returned.")
        ),
        "done_by": _text(errors, "done_by", command.done_by, _("Say who did it."), MAX_WHO),
    }
    try:
        fields["done_on"] = day((command.done_on or "").strip())
        if fields["done_on"] > date.today():
            errors["done_on"] = _("The date cannot be in the future.")
    except ValueError:
        errors["done_on"] = _("Give the date it was done as YYYY-MM-DD.")
    if not verify_password(ctx.actor.password_hash, command.password or ""):
        errors["password"] = _("The password is not right; nothing was signed.")
    if errors:
        raise ValidationError(errors)
    ctx.extra["fields"] = fields


def attest_ahead(ctx: Context, command: AttestDestruction) -> AttestDestruction:
    """The attestation printed and signed from what the adapter read (every check
    passed, the password too), carried in the command to perform()'s write transaction."""
    fields = ctx.extra["fields"]
    return replace(
        command, prepared=attestations.prepare(ctx.session, ctx.actor, ctx.request, fields)
    )


def attest(ctx: Context, command: AttestDestruction) -> None:
    fields, prepared = ctx.extra["fields"], command.prepared
    made = attestations.make(ctx.session, ctx.actor, ctx.request, fields, prepared)
    nations = parties.approving_nations(ctx.session, ctx.request)
    ctx.event(
        EventType.DESTRUCTION_ATTESTED,
        nations,
        number=made.number,
        sha256=made.sha256,
        done_on=str(made.done_on),
    )
    ctx.tell("destruction_attested", nations=nations, attestation=made)


def guard_acknowledge(ctx: Context, command: AcknowledgeDestruction) -> BlockingRule | None:
    found = attestations.awaiting_answer(ctx.session, ctx.request, ctx.nation)
    if found is None:
        message = _(
            "No destruction attestation awaits an answer from %(nation)s.", nation=ctx.nation.name
        )
        return BlockingRule("state", message)
    ctx.extra["attestation"] = found
    return None


def validate_acknowledge(ctx: Context, command: AcknowledgeDestruction) -> None:
    if command.outcome not in ACK_OUTCOMES:
        raise ValidationError({"outcome": _("Answer acknowledged or more_needed.")})
    if command.outcome == "more_needed" and not command.comment.strip():
        raise ValidationError({"comment": _("Say what more the Nation needs.")})
    if len(command.comment) > MAX_TEXT:
        raise ValidationError({"comment": _("At most %(limit)s characters.", limit=MAX_TEXT)})


def acknowledge(ctx: Context, command: AcknowledgeDestruction) -> None:
    """The Nation's answer; the last acknowledgement closes the request."""
    attestation = ctx.extra["attestation"]
    comment = command.comment.strip()
    attestations.answer(ctx.session, ctx.actor, attestation, ctx.nation, command.outcome, comment)
    ctx.event(
        EventType.DESTRUCTION_ACKNOWLEDGED,
        [ctx.nation],
        number=attestation.number,
        outcome=command.outcome,
        comment=comment,
    )
    ctx.tell("destruction_answered", nation=ctx.nation, outcome=command.outcome, comment=comment)
    if command.outcome == "acknowledged" and attestations.acknowledged_by_all(
        ctx.session, ctx.request
    ):
        ctx.set_status(S.CLOSED)
        ctx.session.flush()
        nations = parties.approving_nations(ctx.session, ctx.request)
        ctx.event(EventType.REQUEST_CLOSED, nations, attestation=attestation.number)
        ctx.tell("closed", nations=nations)
