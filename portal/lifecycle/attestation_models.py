"""The end of access: when and why it ended, the researcher's signed destruction
attestations, and each Nation's answer to them (ARCHITECTURE.md, "The end")."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, utcnow

# Why access ended: a Nation revoked it, the term ran out, or the researcher closed early.
END_REASONS = ("revoked", "expired", "closed_early")
# A Nation's answer to an attestation.
ACK_OUTCOMES = ("acknowledged", "more_needed")


class AccessEnding(SQLModel, table=True):
    """One per request whose access ended: from then on an attestation is due, by
    ``ended_at`` plus each Nation's ``attestation_due_days``."""

    __tablename__ = "access_ending"
    __table_args__ = (
        sa.CheckConstraint(
            "reason IN ('revoked', 'expired', 'closed_early')", name="end_reason_known"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", ondelete="CASCADE", unique=True)
    reason: str = Field(max_length=16)
    ended_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DestructionAttestation(SQLModel, table=True):
    """What the researcher states was destroyed or returned, signed as a PDF kept in
    the shared storage under ``sha256``. A Nation asking for more leads to a new one."""

    __tablename__ = "destruction_attestation"
    __table_args__ = (sa.UniqueConstraint("request_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", ondelete="CASCADE", index=True)
    number: int  # 1, 2, ... on this request
    what: str  # what was destroyed or returned
    method: str  # how
    done_on: date  # when
    done_by: str = Field(max_length=300)  # by whom
    signer_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    credential_id: int = Field(foreign_key="signer_credential.id", ondelete="RESTRICT")
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DestructionAcknowledgement(SQLModel, table=True):
    """One Nation's answer to one attestation. The comment is between that Nation and
    the researcher (invariant 9)."""

    __tablename__ = "destruction_acknowledgement"
    __table_args__ = (
        sa.UniqueConstraint("attestation_id", "nation_id"),
        sa.CheckConstraint("outcome IN ('acknowledged', 'more_needed')", name="ack_outcome_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    attestation_id: int = Field(
        foreign_key="destruction_attestation.id", ondelete="CASCADE", index=True
    )
    nation_id: int = Field(foreign_key="nation.id", ondelete="RESTRICT")
    outcome: str = Field(max_length=16)
    comment: str = Field(default="")
    by_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
