"""Outputs submitted for review before publication, and each asking Nation's part."""

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, enum_type, utcnow


class OutputStatus(enum.StrEnum):
    IN_REVIEW = "in_review"  # some Nation that asked has not approved yet
    CLEARED = "cleared"  # every Nation that asked and is still a party approved (or none)
    REFUSED = "refused"  # a Nation refused its publication

    @property
    def label(self) -> str:
        """The status in words, in the language spoken now."""
        from flask_babel import gettext as _

        return {
            OutputStatus.IN_REVIEW: lambda: _("In review"),
            OutputStatus.CLEARED: lambda: _("Cleared for publication"),
            OutputStatus.REFUSED: lambda: _("Publication refused"),
        }[self]()


class OutputTrackStatus(enum.StrEnum):
    REVIEW = "review"  # its stewards are reviewing
    DECISION = "decision"  # its quorum reached: waiting for its representative
    APPROVED = "approved"
    REFUSED = "refused"
    # The Nation waived its review of the request's outputs (migration 0033).
    WAIVED = "waived"
    # An amendment dropped the Nation's data while its part was open: it is no longer a
    # party and its part stops counting (invariant 11; workflow.outputs.end_dropped).
    ENDED = "ended"

    @property
    def is_open(self) -> bool:
        return self in (OutputTrackStatus.REVIEW, OutputTrackStatus.DECISION)

    @property
    def lets_publish(self) -> bool:
        """The Nation's part no longer holds the output back."""
        return self in (
            OutputTrackStatus.APPROVED,
            OutputTrackStatus.WAIVED,
            OutputTrackStatus.ENDED,
        )

    @property
    def label(self) -> str:
        """The Nation's part in words, in the language spoken now."""
        from flask_babel import gettext as _

        return {
            OutputTrackStatus.REVIEW: lambda: _("Its stewards are reviewing"),
            OutputTrackStatus.DECISION: lambda: _("Waiting for its representative's decision"),
            OutputTrackStatus.APPROVED: lambda: _("Approved publication"),
            OutputTrackStatus.REFUSED: lambda: _("Refused publication"),
            OutputTrackStatus.WAIVED: lambda: _("Let its review go"),
            OutputTrackStatus.ENDED: lambda: _("No longer a party: an amendment dropped its data."),
        }[self]()


class OutputRecommendation(enum.StrEnum):
    APPROVE = "approve"
    REFUSE = "refuse"


class OutputOutcome(enum.StrEnum):
    APPROVE = "approve"
    REFUSE = "refuse"


class ResearchOutput(SQLModel, table=True):
    """An output its researcher means to publish. The bytes are stored by digest, as
    agreements are; the media type was read from them (portal/lifecycle/outputs/content.py)."""

    __tablename__ = "research_output"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", ondelete="CASCADE", index=True)
    title: str = Field(max_length=300)
    venue: str = Field(max_length=500)  # where it will be published
    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=40)
    size: int
    sha256: str = Field(max_length=64)
    status: OutputStatus = Field(
        default=OutputStatus.IN_REVIEW, sa_type=enum_type(OutputStatus, "output_status")
    )
    submitted_by: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutputTrack(SQLModel, table=True):
    """One asking Nation's part in one output, with the small cells found in it at that
    Nation's threshold (a CSV's; empty otherwise)."""

    __tablename__ = "output_track"
    __table_args__ = (sa.UniqueConstraint("output_id", "nation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    output_id: int = Field(foreign_key="research_output.id", ondelete="CASCADE")
    nation_id: int = Field(foreign_key="nation.id", ondelete="RESTRICT", index=True)
    status: OutputTrackStatus = Field(
        default=OutputTrackStatus.REVIEW,
        sa_type=enum_type(OutputTrackStatus, "output_track_status"),
    )
    # Why the Nation reviews it: "profile" (output_review_required) or "condition".
    asked_by: str = Field(max_length=20)
    findings: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutputReview(SQLModel, table=True):
    """A designated steward's review of an output, for their Nation: its deliberation."""

    __tablename__ = "output_review"
    __table_args__ = (sa.UniqueConstraint("output_id", "nation_id", "steward_id"),)

    id: int | None = Field(default=None, primary_key=True)
    output_id: int = Field(foreign_key="research_output.id", ondelete="CASCADE")
    nation_id: int = Field(foreign_key="nation.id", ondelete="RESTRICT")
    steward_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT", index=True)
    # Empty when the steward declared a conflict of interest instead of recommending.
    recommendation: OutputRecommendation | None = Field(
        default=None, sa_type=enum_type(OutputRecommendation, "output_recommendation")
    )
    conflict_of_interest: bool = Field(default=False)
    comment: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutputDecision(SQLModel, table=True):
    """A Nation's decision on publishing an output, by its representative, with reasons
    (the researcher reads them)."""

    __tablename__ = "output_decision"
    __table_args__ = (sa.UniqueConstraint("output_id", "nation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    output_id: int = Field(foreign_key="research_output.id", ondelete="CASCADE")
    nation_id: int = Field(foreign_key="nation.id", ondelete="RESTRICT")
    representative_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    outcome: OutputOutcome = Field(sa_type=enum_type(OutputOutcome, "output_outcome"))
    reason: str = Field(default="")
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
