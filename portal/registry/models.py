"""Nations and communities with their governance profiles, and the datasets that hold their data."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, enum_type, utcnow


class Framework(enum.StrEnum):
    """The data-governance framework a Nation applies."""

    OCAP = "OCAP"  # First Nations: Ownership, Control, Access, Possession
    OCAS = "OCAS"  # Métis: Ownership, Control, Access, Stewardship
    CARE = "CARE"  # Collective benefit, Authority to control, Responsibility, Ethics


# Days a step may wait for the Nation before a reminder (portal/workflow/reminders.py).
REMINDER_FIELDS = (
    "remind_review_days",
    "remind_decision_days",
    "remind_signature_days",
    "remind_report_days",
)


class Nation(SQLModel, table=True):
    """A Nation or community, and its governance profile (which its representative edits)."""

    __table_args__ = (
        sa.CheckConstraint("review_quorum >= 1", name="review_quorum_positive"),
        sa.CheckConstraint("min_approvals >= 0", name="min_approvals_not_negative"),
        sa.CheckConstraint("max_term_days IS NULL OR max_term_days >= 1", name="max_term_positive"),
        sa.CheckConstraint("small_cell_threshold >= 0", name="small_cell_not_negative"),
        *(
            sa.CheckConstraint(f"{days} IS NULL OR {days} >= 1", name=f"{days}_positive")
            for days in REMINDER_FIELDS
        ),
        sa.CheckConstraint("attestation_due_days >= 1", name="attestation_due_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    # Its names beside the English one: French, and its own language and script with
    # that language's BCP 47 tag (e.g. "cr-Cans"), which pages and PDFs mark it with.
    name_fr: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    name_own: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    name_own_lang: str = Field(default="", max_length=35, sa_column_kwargs={"server_default": ""})
    framework: Framework = Field(sa_type=enum_type(Framework, "framework"))
    # How many designated stewards must review the current revision before approval.
    review_quorum: int = Field(default=1)
    # How many of those reviews must recommend approval.
    min_approvals: int = Field(default=1)
    # ISO 3166 codes where the data may be stored (e.g. "CA", "CA-ON"); empty: anywhere.
    residency: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # The longest term an agreement may run, in days; empty: no limit.
    max_term_days: int | None = Field(default=None)
    output_review_required: bool = Field(default=True)
    small_cell_threshold: int = Field(default=5)
    # Days a step may wait for the Nation before whoever can act is reminded (and again
    # after as many days while it still waits); empty: no reminders. A reminder is a
    # message only: nothing ever moves because time passed (invariant 3).
    remind_review_days: int | None = Field(default=14)
    remind_decision_days: int | None = Field(default=14)
    remind_signature_days: int | None = Field(default=14)
    # An obligation's report overdue to the Nation reminds the researcher (issue 11).
    remind_report_days: int | None = Field(default=14)
    # Days after access ends within which the researcher must attest destruction.
    attestation_due_days: int = Field(default=30, sa_column_kwargs={"server_default": "30"})
    # When it became a member Nation, one that answers changes to the portal-wide rules:
    # at registration while no member had a representative to answer (the founding
    # Nations), else when the members approved its admission (portal/policy/membership.py).
    # Empty: its admission waits for the members. Its own data is its own either way.
    admitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DatasetNation(SQLModel, table=True):
    """Whose data a dataset holds (many Nations per dataset, many datasets per Nation)."""

    __tablename__ = "dataset_nation"

    dataset_id: int = Field(foreign_key="dataset.id", primary_key=True, ondelete="CASCADE")
    nation_id: int = Field(
        foreign_key="nation.id", primary_key=True, ondelete="RESTRICT", index=True
    )
    # When a correction added the Nation to the dataset (None: named at registration, or
    # before migration 0032). A request last submitted before then was never put to the
    # Nation: it is none of the Nation's requests (requests.service.counted_link).
    added_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Dataset(SQLModel, table=True):
    """An administrative dataset held by a government custodian."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    title: str = Field(max_length=200)
    # Its title in French, and in the language and script of a Nation whose data it
    # holds with that language's BCP 47 tag (e.g. "cr-Cans"), as for a Nation.
    name_fr: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    name_own: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    name_own_lang: str = Field(default="", max_length=35, sa_column_kwargs={"server_default": ""})
    custodian: str = Field(max_length=200)
    description: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DatasetLabel(SQLModel, table=True):
    """A Local Contexts TK or BC Label or Notice a Nation attached to a dataset holding its
    data (portal/registry/labels.py: the label set), in its community's own wording."""

    __tablename__ = "dataset_label"
    __table_args__ = (sa.UniqueConstraint("dataset_id", "nation_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", ondelete="CASCADE", index=True)
    nation_id: int = Field(foreign_key="nation.id", ondelete="RESTRICT")
    code: str = Field(max_length=64)
    wording: str = Field(default="", max_length=2000)
    # The label's project on the Local Contexts Hub (https only); empty: none given.
    hub_url: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
