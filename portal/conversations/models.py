"""The messages of a request's conversations."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, enum_type, utcnow

MAX_BODY = 5000


class Channel(enum.StrEnum):
    """The kinds of thread on a request. The two Nation threads are one per Nation."""

    COORDINATORS = "coordinators"  # the researcher with the coordinators (screening)
    NATION = "nation"  # the researcher with one Nation, private to that Nation
    INTERNAL = "internal"  # one Nation's own discussion: its people alone

    @property
    def per_nation(self) -> bool:
        return self is not Channel.COORDINATORS


class Message(SQLModel, table=True):
    """One message in one thread: (request, channel, nation) names the thread."""

    __tablename__ = "message"
    __table_args__ = (
        sa.CheckConstraint(
            "(channel = 'coordinators') = (nation_id IS NULL)", name="thread_has_its_nation"
        ),
        sa.Index("ix_message_thread", "request_id", "channel", "nation_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", ondelete="CASCADE")
    channel: Channel = Field(sa_type=enum_type(Channel, "channel"))
    nation_id: int | None = Field(default=None, foreign_key="nation.id", ondelete="RESTRICT")
    author_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    # Written for the Nation (its side of the researcher's thread): the researcher reads
    # the Nation's name, not the person's (invariant 9). Fixed when written.
    as_nation: bool = False
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
