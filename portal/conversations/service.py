"""Writing and reading a request's messages. Flush, never commit: the caller's
transaction (perform()) keeps the message with its audit event and its mail."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.auth.models import User
from portal.conversations.models import Channel, Message
from portal.registry.models import Nation
from portal.requests.models import AccessRequest


@dataclass(frozen=True)
class Thread:
    """One thread of one request: its channel, and its Nation for the per-Nation ones."""

    channel: Channel
    nation: Nation | None = None

    @property
    def key(self) -> tuple[Channel, int | None]:
        return self.channel, self.nation.id if self.nation else None


@dataclass(frozen=True)
class Tally:
    count: int
    latest: datetime | None


def post(
    session: Session,
    request: AccessRequest,
    thread: Thread,
    author: User,
    body: str,
    *,
    as_nation: bool,
) -> Message:
    message = Message(
        request_id=request.id,
        channel=thread.channel,
        nation_id=thread.nation.id if thread.nation else None,
        author_id=author.id,
        as_nation=as_nation,
        body=body,
    )
    session.add(message)
    session.flush()
    return message


def _in(thread: Thread) -> sa.ColumnElement[bool]:
    nation_id = thread.nation.id if thread.nation else None
    same_nation = (
        Message.nation_id.is_(None) if nation_id is None else Message.nation_id == nation_id
    )
    return sa.and_(Message.channel == thread.channel, same_nation)


def messages(
    session: Session, request: AccessRequest, thread: Thread
) -> list[tuple[Message, User]]:
    """The thread's messages and their authors, oldest first."""
    query = (
        select(Message, User)
        .join(User, User.id == Message.author_id)
        .where(Message.request_id == request.id, _in(thread))
        .order_by(Message.created_at, Message.id)
    )
    return list(session.exec(query))


def tallies(session: Session, request: AccessRequest) -> dict[tuple[Channel, int | None], Tally]:
    """For each thread of the request that has messages: how many, and the latest date."""
    query = (
        select(Message.channel, Message.nation_id, sa.func.count(), sa.func.max(Message.created_at))
        .where(Message.request_id == request.id)
        .group_by(Message.channel, Message.nation_id)
    )
    return {
        (channel, nation_id): Tally(count, latest)
        for channel, nation_id, count, latest in session.exec(query)
    }


def title(thread: Thread) -> str:
    """The thread's name, as every reader of it reads it."""
    if thread.channel is Channel.COORDINATORS:
        return _("The researcher and the coordinators")
    if thread.channel is Channel.NATION:
        return _("The researcher and %(nation)s", nation=thread.nation.name)
    return _("%(nation)s: its own discussion", nation=thread.nation.name)
