"""perform(): the one way a request changes. Every adapter builds a command and calls it.

In order: find the request (404 if the person may not know of it) and lock it; resolve
the Nation the command names (422); who may (403); the state and the step's own guard
(409); the command's input (422); the governance conditions (409, named in
blocked_by); then the handler writes, records the audit event and names the notices,
which go to the outbox in the same transaction. Nothing happens because time passed
but the end of a term: silence is never consent.
"""

from flask_babel import gettext as _
from sqlmodel import Session, select

from portal import metrics
from portal.agreements import parties
from portal.auth.models import User
from portal.errors import NotFound, ValidationError
from portal.policy.access import get_visible
from portal.registry.models import Nation
from portal.requests.models import AccessRequest
from portal.workflow import notices
from portal.workflow.commands import Command
from portal.workflow.context import Context
from portal.workflow.offers import gate
from portal.workflow.table import NationArg, Transition, transition_for


def perform(session: Session, actor: User | None, ref: str, command: Command) -> AccessRequest:
    """Carry out ``command`` on request ``ref`` as ``actor`` (None: the system's own
    step). Raises NotFound, Forbidden, Refused or ValidationError, having written
    nothing the caller's transaction keeps (the caller rolls back on any error).
    Every adapter comes through here, so each outcome is counted here, once."""
    try:
        request = _perform(session, actor, ref, command)
    except Exception as error:
        metrics.count_action(command.name, error)
        raise
    metrics.count_action(command.name)
    return request


def perform_ahead(session: Session, actor: User | None, ref: str, command: Command) -> Command:
    """Do a command's slow part (signing) before the write transaction, from what
    ``session`` reads now: the same checks as perform() first, so a refused command
    costs nothing; then the step's ``ahead``, whose result the returned command
    carries. perform() checks it again under the lock; nothing is written here.
    Commands without a slow part come back unchanged, nothing read."""
    transition = transition_for(command)
    if transition.ahead is None:
        return command
    try:
        ctx = _checked(session, actor, ref, transition, command, lock=False)
        return transition.ahead(ctx, command)
    except Exception as error:  # perform() will not run: the refusal is counted here
        metrics.count_action(command.name, error)
        raise


def works_ahead(kind: type[Command]) -> bool:
    """Whether the command has a slow part its adapters do before writing."""
    return transition_for(kind()).ahead is not None


def _perform(session: Session, actor: User | None, ref: str, command: Command) -> AccessRequest:
    transition = transition_for(command)
    ctx = _checked(session, actor, ref, transition, command, lock=True)
    transition.handler(ctx, command)
    session.flush()
    for kind, context in ctx.notices:
        getattr(notices, kind)(session, ctx.request, **context)
    return ctx.request


def _checked(
    session: Session,
    actor: User | None,
    ref: str,
    transition: Transition,
    command: Command,
    *,
    lock: bool,
) -> Context:
    """Every check before the handler: 404, 422 (the Nation), 403, 409, 422, 409."""
    request = _load(session, actor, ref, lock)
    ctx = Context(session, actor, request, _nation(session, request, transition, command))
    if transition.prepare is not None:
        transition.prepare(ctx, command)
    decision = gate(ctx, transition, command)
    if transition.validate is not None:
        transition.validate(ctx, command)
    decision.raise_if_refused()
    return ctx


def _load(session: Session, actor: User | None, ref: str, lock: bool) -> AccessRequest:
    if actor is not None:
        return get_visible(session, actor, ref, for_update=lock)
    query = select(AccessRequest).where(AccessRequest.ref == ref)
    query = query.with_for_update() if lock else query
    request = session.exec(query).first()
    if request is None:
        raise NotFound(_("no request %(ref)s", ref=ref))
    return request


def _nation(
    session: Session, request: AccessRequest, transition: Transition, command: Command
) -> Nation | None:
    """The Nation a command names, which must be one whose data the request touches."""
    if transition.nation is NationArg.NONE:
        return None
    slug = getattr(command, "nation", None)
    if transition.nation is NationArg.OBLIGATION:  # the obligation's own (prepare)
        return None
    if not slug and transition.nation in (NationArg.PARTY, NationArg.OPTIONAL):
        return None
    found = next((n for n in parties.nations_concerned(session, request) if n.slug == slug), None)
    if found is None:
        raise ValidationError({"nation": _("Name a Nation whose data this request touches.")})
    return found
