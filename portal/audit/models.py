"""The audit record: append-only, hash-chained events, the Nations each concerns,
and the head of the chain (the one row every append locks and moves on)."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, utcnow

GENESIS_HASH = "0" * 64  # what the first event chains to


class AuditEvent(SQLModel, table=True):
    """One thing that happened. Never updated or deleted (the database refuses both).

    ``id`` is the event's place in the chain: 1, 2, 3, ... with no gaps, assigned
    from the chain head, so a missing event shows as a gap.
    """

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_request_id_id", "request_id", "id"),)

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")
    # Who, in words that survive the account: an e-mail address, or "system".
    actor_label: str = Field(max_length=254)
    action: str = Field(max_length=64)  # dotted: "request.submitted", "role.granted", ...
    request_id: int | None = Field(
        default=None, foreign_key="access_request.id", ondelete="RESTRICT"
    )
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    client_address: str | None = Field(default=None, max_length=45)  # IPv6 fits
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditEventNation(SQLModel, table=True):
    """Which Nations an event concerns: what each Nation's record is read from."""

    __tablename__ = "audit_event_nation"
    __table_args__ = (
        sa.Index("ix_audit_event_nation_nation_id_event_id", "nation_id", "event_id"),
    )

    event_id: int = Field(foreign_key="audit_event.id", primary_key=True, ondelete="RESTRICT")
    nation_id: int = Field(foreign_key="nation.id", primary_key=True, ondelete="RESTRICT")


class AuditChainHead(SQLModel, table=True):
    """The last event of the chain. Its single row is locked by each append, which
    serialises writers on PostgreSQL, and it lets ``verify`` notice a missing or
    added last event."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_event_id: int = Field(default=0)
    last_hash: str = Field(default=GENESIS_HASH, max_length=64)
