"""The outbox: mail is written in the same transaction as the change it reports and
sent afterwards, so a mail server being down never loses or blocks a transition."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, enum_type, utcnow


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


class CustodianEndpoint(SQLModel, table=True):
    """Where a dataset's custodian receives its signed entitlement notices. The signing
    secret is kept sealed (Fernet, keyed from SECRET_KEY: portal/notify/secrets.py) and
    shown once, when it is made."""

    __tablename__ = "custodian_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", unique=True, ondelete="CASCADE")
    url: str = Field(max_length=500)
    sealed_secret: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    secret_made_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # a day of attempts went unanswered: shown, retried by hand


class CustodianDelivery(SQLModel, table=True):
    """One notice to one dataset's custodian: its id is the webhook-id the receiver
    sees (the same on every attempt, so it can drop repeats)."""

    __tablename__ = "custodian_delivery"
    __table_args__ = (sa.Index("ix_custodian_delivery_status_due_at", "status", "due_at"),)

    id: str = Field(primary_key=True, max_length=40)  # msg_<uuid4 hex>
    dataset_id: int = Field(foreign_key="dataset.id", index=True, ondelete="CASCADE")
    request_id: int | None = Field(
        default=None, foreign_key="access_request.id", ondelete="SET NULL", index=True
    )
    event_type: str = Field(max_length=40)  # access.started, access.ended, ...
    payload: dict = Field(default_factory=dict, sa_type=sa.JSON)
    status: DeliveryStatus = Field(
        default=DeliveryStatus.PENDING, sa_type=enum_type(DeliveryStatus, "delivery_status")
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When the next attempt is due; the day of retries counts from first_attempt_at.
    due_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    first_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeliveryAttempt(SQLModel, table=True):
    """Every try of a delivery: when, what the receiver answered (or why none), how long."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(
        foreign_key="custodian_delivery.id", max_length=40, index=True, ondelete="CASCADE"
    )
    attempted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status_code: int | None = Field(default=None)
    error: str = Field(default="", max_length=500)
    duration_ms: int = Field(default=0)
