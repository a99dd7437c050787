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
