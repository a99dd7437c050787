"""A request's conversations as one person reads them: the threads they may read, each
with its count and latest date, and a thread's messages with their authors shown as
invariant 9 says (privacy.sight: the Nation's own people read its people's names)."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from portal.auth.models import User
from portal.conversations import service as conversations
from portal.conversations.models import Message
from portal.conversations.service import Thread
from portal.requests.models import AccessRequest
from portal.transparency.privacy import sight
from portal.workflow.messaging import readable_threads


@dataclass(frozen=True)
class ThreadSummary:
    thread: Thread
    title: str
    count: int
    latest: datetime | None

    @property
    def nation_slug(self) -> str | None:
        return self.thread.nation.slug if self.thread.nation else None


@dataclass(frozen=True)
class ShownMessage:
    message: Message
    author: str
    own: bool  # the reader wrote it


def summaries(session: Session, viewer: User, request: AccessRequest) -> list[ThreadSummary]:
    """The threads ``viewer`` may read, in order, each with its count and latest date."""
    tallies = conversations.tallies(session, request)
    found = []
    for thread in readable_threads(session, viewer, request):
        tally = tallies.get(thread.key)
        count, latest = (tally.count, tally.latest) if tally else (0, None)
        found.append(ThreadSummary(thread, conversations.title(thread), count, latest))
    return found


def shown_messages(
    session: Session, viewer: User, request: AccessRequest, thread: Thread
) -> list[ShownMessage]:
    """The thread's messages, oldest first, as ``viewer`` reads them (a thread they may
    read: the caller found it with messaging.find_thread)."""
    seen = sight(session, viewer, request)
    nation_id = thread.nation.id if thread.nation else None
    return [
        ShownMessage(
            message,
            author.name
            if seen.names_writer(message.as_nation, nation_id, author.id)
            else thread.nation.name,
            author.id == viewer.id,
        )
        for message, author in conversations.messages(session, request, thread)
    ]
