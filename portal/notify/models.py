"""The outbox: mail is written in the same transaction as the change it reports and
sent afterwards, so a mail server being down never loses or blocks a transition."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, utcnow


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_sent_at_id", "sent_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body: str
    request_id: int | None = Field(
        default=None, foreign_key="access_request.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    last_error: str = Field(default="", max_length=500)
    # Set when the last allowed attempt failed: the message is kept, shown to
    # administrators and sent again when one of them retries it; never dropped.
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ExpiryNotice(SQLModel, table=True):
    """A notice that a request's term ends in ``days_before`` days, recorded when it is
    queued so that no later run sends it again."""

    __tablename__ = "expiry_notice"
    __table_args__ = (sa.UniqueConstraint("request_id", "days_before"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", ondelete="CASCADE")
    days_before: int
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Reminder(SQLModel, table=True):
    """A reminder that a step has waited too long: a message, never a change of state.
    The newest one per request, step and Nation says when the next may go."""

    __tablename__ = "reminder"
    __table_args__ = (sa.Index("ix_reminder_request_id_step", "request_id", "step"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", ondelete="CASCADE")
    step: str = Field(max_length=32)  # screen, review, decide, sign
    nation_id: int | None = Field(default=None, foreign_key="nation.id", ondelete="CASCADE")
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
