"""The obligations of an active request: each condition a Nation attached to its
approval, what is due when, and where it stands (ARCHITECTURE.md, "Obligations")."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, enum_type, utcnow


class ObligationState(enum.StrEnum):
    OPEN = "open"  # waits for the researcher's report
    REPORTED = "reported"  # waits for the Nation's assessment
    MET = "met"
    NOT_MET = "not_met"  # the researcher may report again
    WAIVED = "waived"  # the Nation let it go (its representative)
    # A later edition's conditions replaced it before it fell due: nothing is owed.
    SUPERSEDED = "superseded"

    @property
    def label(self) -> str:
        """The state in words, in the language spoken now."""
        from flask_babel import gettext as _

        return {
            ObligationState.OPEN: lambda: _("Open"),
            ObligationState.REPORTED: lambda: _("Reported"),
            ObligationState.MET: lambda: _("Met"),
            ObligationState.NOT_MET: lambda: _("Not met"),
            ObligationState.WAIVED: lambda: _("Waived"),
            ObligationState.SUPERSEDED: lambda: _("Superseded"),
        }[self]()

    @property
    def owes_report(self) -> bool:
        """The researcher has something to report (and it may fall overdue)."""
        return self in (ObligationState.OPEN, ObligationState.NOT_MET)

    @property
    def settled(self) -> bool:
        """Nothing more is asked: it can be neither reported, assessed nor waived."""
        return self in (ObligationState.MET, ObligationState.WAIVED, ObligationState.SUPERSEDED)


class DueKind(enum.StrEnum):
    DATE = "date"  # on a date the Nation named
    PERIOD = "period"  # every so many months from the start of access
    EVENT = "event"  # when something happens: before publication, at the end


class DueEvent(enum.StrEnum):
    BEFORE_PUBLICATION = "before_publication"
    AT_END = "at_end"


class Obligation(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_obligation_state_due", "state", "next_due"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", ondelete="CASCADE", index=True)
    nation_id: int = Field(foreign_key="nation.id", ondelete="RESTRICT", index=True)
    # The standard condition's code in the catalogue, or "custom" for the Nation's words.
    source: str = Field(max_length=60)
    text: str = Field(sa_type=sa.Text)
    due_kind: DueKind = Field(sa_type=enum_type(DueKind, "due_kind"))
    due_date: date | None = None  # DATE: the date named
    period_months: int | None = None  # PERIOD
    due_event: DueEvent | None = Field(default=None, sa_type=enum_type(DueEvent, "due_event"))
    # When it next falls due, if a date says so: the date, the next period's end, or the
    # end of the term (at_end). None for "before publication": no date makes it overdue.
    next_due: date | None = None
    state: ObligationState = Field(
        default=ObligationState.OPEN, sa_type=enum_type(ObligationState, "obligation_state")
    )
    # The edition whose conditions replaced the ones this was made from (the Nation
    # decided afresh). Not yet due then: superseded. Overdue or reported: still owed
    # once, its last report (a periodic one met does not open again).
    superseded_by: int | None = None
    report_text: str = Field(default="", sa_type=sa.Text)
    report_file_digest: str | None = Field(default=None, max_length=64)  # portal.storage
    reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The Nation's assessment: read by its own people only, unless it tells the researcher.
    assessment_comment: str = Field(default="", sa_type=sa.Text)
    tell_researcher: bool = False
    assessed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    assessed_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
