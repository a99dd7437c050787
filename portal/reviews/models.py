"""Each Nation's track through a request: its stewards' reviews, its representative's decision."""

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, enum_type, utcnow


class TrackStatus(enum.StrEnum):
    REVIEW = "review"  # the Nation's stewards are reviewing
    DECISION = "decision"  # quorum reached: waiting for the representative
    APPROVED = "approved"
    REFUSED = "refused"
    REVOKED = "revoked"
    # A revision dropped the Nation's data: its part ended (invariant 11). It no longer
    # counts toward the request's approval and is no party to its agreement.
    ENDED = "ended"

    @property
    def words(self) -> str:
        """Where the Nation's part stands, in words."""
        return {
            TrackStatus.REVIEW: _("its stewards are reviewing"),
            TrackStatus.DECISION: _("waiting for its representative's decision"),
            TrackStatus.APPROVED: _("approved"),
            TrackStatus.REFUSED: _("refused"),
            TrackStatus.REVOKED: _("revoked"),
            TrackStatus.ENDED: _("ended: a revision dropped its data"),
        }[self]

    @property
    def label(self) -> str:
        return self.words[0].upper() + self.words[1:]

    @property
    def is_open(self) -> bool:
        """Still before the Nation's decision: its stewards may review, it may decide."""
        return self in (TrackStatus.REVIEW, TrackStatus.DECISION)


class Recommendation(enum.StrEnum):
    APPROVE = "approve"
    REFUSE = "refuse"
    CHANGES = "changes"

    @property
    def label(self) -> str:
        return {
            Recommendation.APPROVE: _("recommends approval"),
            Recommendation.REFUSE: _("recommends refusal"),
            Recommendation.CHANGES: _("asks for changes"),
        }[self]


class Outcome(enum.StrEnum):
    APPROVE = "approve"
    REFUSE = "refuse"

    @property
    def label(self) -> str:
        return _("Approved") if self is Outcome.APPROVE else _("Refused")


class NationTrack(SQLModel, table=True):
    """One Nation's part in one request: every Nation whose data it touches has one."""

    __tablename__ = "nation_track"
    __table_args__ = (sa.UniqueConstraint("request_id", "nation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", ondelete="CASCADE")
    nation_id: int = Field(foreign_key="nation.id", ondelete="RESTRICT", index=True)
    status: TrackStatus = Field(
        default=TrackStatus.REVIEW, sa_type=enum_type(TrackStatus, "track_status")
    )
    # The revision its status is about (stamped by Context.move_track): a status of an
    # earlier revision than the one now submitted is no part in it (invariant 2).
    revision: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Review(SQLModel, table=True):
    """A designated steward's review of one revision, for their Nation."""

    __table_args__ = (
        # One review per steward per revision: a double click cannot count twice.
        sa.UniqueConstraint("request_id", "nation_id", "revision", "steward_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", ondelete="CASCADE")
    nation_id: int = Field(foreign_key="nation.id", ondelete="RESTRICT")
    revision: int
    steward_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT", index=True)
    # Empty when the steward declared a conflict of interest instead of recommending.
    recommendation: Recommendation | None = Field(
        default=None, sa_type=enum_type(Recommendation, "recommendation")
    )
    conflict_of_interest: bool = Field(default=False)
    # The criteria Nations use (reasonable need, benefit, harm, group harm, ...): {key: note}
    criteria: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    comment: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Decision(SQLModel, table=True):
    """A Nation's decision on a request, made by its representative."""

    __table_args__ = (sa.Index("ix_decision_request_id_nation_id", "request_id", "nation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", ondelete="CASCADE")
    nation_id: int = Field(foreign_key="nation.id", ondelete="RESTRICT")
    revision: int
    representative_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    outcome: Outcome = Field(sa_type=enum_type(Outcome, "outcome"))
    reason: str = Field(default="")
    # The conditions attached to an approval: [{"code": "...", "text": "..."}]
    conditions: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    # The version of the governance rules in force when it was made (portal/policy/versions.py).
    rules_version: int | None = Field(default=None)
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
