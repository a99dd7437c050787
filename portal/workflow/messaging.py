"""Conversations on a request: the ``message`` command, and who may read each thread.

One command, three policy actions, one per kind of thread (as ``decide`` is one
command for approve and refuse): message_coordinators (the researcher with the
coordinators), message_nation (the researcher with one Nation), discuss (a Nation's
own discussion, never read by anyone on the requesting side: not_own_request). Who may
read a thread is who may write in it: the same grant, asked of the policy. A message
never changes the request's state."""

from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.audit.events import EventType
from portal.auth.models import User
from portal.conversations import service as conversations
from portal.conversations.models import MAX_BODY, Channel
from portal.conversations.service import Thread
from portal.errors import NotFound, ValidationError
from portal.policy.access import holders_reaching, may_view, request_nation_ids
from portal.policy.service import authorize
from portal.policy.vocabulary import Action
from portal.registry.models import Nation
from portal.requests.models import AccessRequest, RequestStatus
from portal.workflow.commands import Message
from portal.workflow.context import Context

THREAD_ACTIONS = {
    Channel.COORDINATORS: Action.MESSAGE_COORDINATORS,
    Channel.NATION: Action.MESSAGE_NATION,
    Channel.INTERNAL: Action.DISCUSS,
}
# Threads open with the submission and stay open whatever comes after.
OPEN_STATES = frozenset(RequestStatus) - {RequestStatus.DRAFT}


def thread_action(command: Message) -> Action:
    """The policy action a message asks (``prepare`` checked its channel first)."""
    return THREAD_ACTIONS[Channel(command.channel)]


def prepare(ctx: Context, command: Message) -> None:
    """Which thread: a known channel, with a Nation exactly when it is a Nation's (422)."""
    try:
        channel = Channel(command.channel)
    except ValueError:
        known = ", ".join(c.value for c in Channel)
        raise ValidationError(
            {"channel": _("Name the thread: one of %(known)s.", known=known)}
        ) from None
    if channel.per_nation and ctx.nation is None:
        raise ValidationError({"nation": _("Name the Nation whose thread this is.")})
    if not channel.per_nation and ctx.nation is not None:
        raise ValidationError({"nation": _("The coordinators' thread is no Nation's: name none.")})


def validate(ctx: Context, command: Message) -> None:
    body = command.body.strip()
    if not body:
        raise ValidationError({"body": _("Write the message: it is empty.")})
    if len(body) > MAX_BODY:
        limit, length = f"{MAX_BODY:,}", f"{len(body):,}"
        message = _(
            "A message is at most %(limit)s characters; this one has %(length)s.",
            limit=limit,
            length=length,
        )
        raise ValidationError({"body": message})


def message(ctx: Context, command: Message) -> None:
    write(ctx, Thread(Channel(command.channel), ctx.nation), command.body.strip())


def write(ctx: Context, thread: Thread, body: str) -> None:
    """Post ``body`` in ``thread`` as the actor: the message, its event and its mail."""
    actor = ctx.actor
    # In the researcher's thread with a Nation, whoever is not on the requesting side
    # writes for the Nation, and the researcher reads the Nation's name (invariant 9).
    as_nation = thread.channel is Channel.NATION and not ctx.request.involves(actor.id, actor.email)
    posted = conversations.post(ctx.session, ctx.request, thread, actor, body, as_nation=as_nation)
    nations = [thread.nation] if thread.nation else []
    details = {"channel": thread.channel.value, "message": posted.id, "body": body}
    ctx.event(EventType.MESSAGE_POSTED, nations, as_nation=as_nation, **details)
    ctx.tell("message_posted", thread=thread, message=posted)


# --- who reads which thread ------------------------------------------------------------


def may_read(session: Session, user: User, request: AccessRequest, thread: Thread) -> bool:
    """Whether ``user`` may read (and so write in) ``thread``: the thread's policy action,
    for its Nation, on this request; nothing stands in the way but "not now"."""
    if request.status not in OPEN_STATES or not may_view(session, user, request):
        return False
    action = THREAD_ACTIONS[thread.channel]
    decision = authorize(session, user, action, nation=thread.nation, request=request)
    return decision.forbidden_by is None


def threads_of(session: Session, request: AccessRequest) -> list[Thread]:
    """Every thread the request has: the coordinators', then each Nation's two (the
    Nations it concerns, those whose part ended too), by Nation name."""
    ids = request_nation_ids(session, request)
    nations = (
        session.exec(select(Nation).where(Nation.id.in_(ids)).order_by(Nation.name)) if ids else []
    )
    found = [Thread(Channel.COORDINATORS)]
    for nation in nations:
        found += [Thread(Channel.NATION, nation), Thread(Channel.INTERNAL, nation)]
    return found


def readable_threads(session: Session, user: User, request: AccessRequest) -> list[Thread]:
    return [t for t in threads_of(session, request) if may_read(session, user, request, t)]


def find_thread(
    session: Session, user: User, request: AccessRequest, channel: str, nation_slug: str | None
) -> Thread:
    """The thread named in a page's address, if ``user`` may read it; otherwise NotFound
    (a thread one may not read is none of one's business)."""
    for thread in readable_threads(session, user, request):
        slug = thread.nation.slug if thread.nation else None
        if thread.channel.value == channel and slug == nation_slug:
            return thread
    raise NotFound(f"no conversation {channel} {nation_slug or ''} on {request.ref}")


def readers(session: Session, request: AccessRequest, thread: Thread) -> list[User]:
    """Everyone who may read ``thread``: those its policy action reaches, asked one by one."""
    action = THREAD_ACTIONS[thread.channel]
    people = holders_reaching(session, request, action, thread.nation)
    return [person for person in people if may_read(session, person, request, thread)]
