"""Access requests, the datasets they ask for, and their submitted revisions."""

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, enum_type, utcnow

# Each state in words, read in the language spoken when it is shown (English in the API,
# in the CLI and in jobs).
_STATE_LABELS = {
    "draft": _l("Draft"),
    "screening": _l("Screening"),
    "changes_requested": _l("Changes requested"),
    "under_review": _l("Under review"),
    "awaiting_signatures": _l("Awaiting signatures"),
    "active": _l("Active"),
    "refused": _l("Refused"),
    "withdrawn": _l("Withdrawn"),
    "revoked": _l("Revoked"),
    "expired": _l("Expired"),
    "closed": _l("Closed"),
}


class RequestStatus(enum.StrEnum):
    DRAFT = "draft"
    SCREENING = "screening"
    CHANGES_REQUESTED = "changes_requested"
    UNDER_REVIEW = "under_review"
    AWAITING_SIGNATURES = "awaiting_signatures"
    ACTIVE = "active"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"
    EXPIRED = "expired"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(_STATE_LABELS[self.value])

    @property
    def submitted(self) -> bool:
        """Past the draft: the request is no longer the researcher's alone."""
        return self is not RequestStatus.DRAFT

    @property
    def approved_by_every_nation(self) -> bool:
        """Reached only once every Nation concerned approved (an agreement exists)."""
        return self in _APPROVED_BY_ALL

    @property
    def access_ended(self) -> bool:
        return self in _ACCESS_ENDED


class AmendmentPhase(enum.StrEnum):
    """Where a renewal or amendment of an active request stands: the pipeline's own
    states, walked again while access continues under the agreement in force."""

    DRAFT = "draft"
    SCREENING = "screening"
    CHANGES_REQUESTED = "changes_requested"
    UNDER_REVIEW = "under_review"
    AWAITING_SIGNATURES = "awaiting_signatures"

    @property
    def label(self) -> str:
        return str(_STATE_LABELS[self.value])


class AmendmentKind(enum.StrEnum):
    RENEW = "renew"  # a fresh term from the new edition's issue
    AMEND = "amend"  # the term end of the edition in force stays


_APPROVED_BY_ALL = frozenset(
    {
        RequestStatus.AWAITING_SIGNATURES,
        RequestStatus.ACTIVE,
        RequestStatus.REVOKED,
        RequestStatus.EXPIRED,
        RequestStatus.CLOSED,
    }
)
_ACCESS_ENDED = frozenset({RequestStatus.REVOKED, RequestStatus.EXPIRED, RequestStatus.CLOSED})

# The fields a researcher fills in (README.md, "API"); each revision snapshots them.
REQUEST_FIELDS = (
    "title",
    "purpose",
    "datasets",
    "methods",
    "community_benefit",
    "harm_assessment",
    "ethics_approval",
    "storage_location",
    "retention_days",
    "team",
    "agreement_language",
)


class AccessRequest(SQLModel, table=True):
    __tablename__ = "access_request"
    __table_args__ = (
        sa.CheckConstraint(
            "retention_days IS NULL OR retention_days >= 1", name="retention_positive"
        ),
        sa.Index("ix_access_request_status_updated_at", "status", "updated_at"),
        # Lists of requests, the most recently changed first (migration 0018).
        sa.Index("ix_access_request_updated_at_id", "updated_at", "id"),
        # A researcher's own requests in that order (migration 0026): without it SQLite
        # walked every request of a state to find the researcher's few.
        sa.Index(
            "ix_access_request_researcher_id_updated_at_id", "researcher_id", "updated_at", "id"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The public reference, random so that it reveals nothing about other requests.
    ref: str = Field(max_length=16, unique=True)
    researcher_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    status: RequestStatus = Field(
        default=RequestStatus.DRAFT, sa_type=enum_type(RequestStatus, "request_status")
    )
    title: str = Field(default="", max_length=300)
    purpose: str = Field(default="")
    methods: str = Field(default="")
    community_benefit: str = Field(default="")
    harm_assessment: str = Field(default="")
    ethics_approval: str = Field(default="", max_length=500)
    storage_location: str = Field(default="", max_length=16)
    retention_days: int | None = Field(default=None)
    # [{name, email, role}]
    team: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    # "en", "fr" or "both" (side by side): the language of the agreement (fields.py).
    agreement_language: str = Field(default="en", max_length=8)
    # 0 until first submitted; then the number of the latest revision.
    current_revision: int = Field(default=0)
    # The researcher's edits since a submission, not yet submitted (the fields as a
    # revision keeps them), else None. Until they submit them the edits are theirs
    # alone: the fields above, the datasets (so the Nations concerned) and the team (so
    # who is on the requesting side) stay as submitted (requests.service.save_edits).
    pending_fields: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    # While a renewal or amendment is open: the team of the agreement in force. Its
    # members stay on the requesting side until a new edition takes effect, whatever team
    # the amendment submits (found in a probe: a member dropped by a submitted amendment
    # judged the request under the edition that still names them).
    team_in_force: list[dict[str, Any]] | None = Field(default=None, sa_type=sa.JSON)
    # A renewal or amendment in progress on an active request (None: none). The
    # request stays active; the amendment walks the pipeline in its own phase.
    amendment: AmendmentPhase | None = Field(
        default=None, sa_type=enum_type(AmendmentPhase, "amendment_phase")
    )
    amendment_kind: AmendmentKind | None = Field(
        default=None, sa_type=enum_type(AmendmentKind, "amendment_kind")
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def phase(self) -> RequestStatus:
        """Where the pipeline's steps (edit, submit, screen, review, decide, sign, withdraw)
        stand: the amendment's phase while one is open, else the status. The one place
        the transition table reads it (portal/workflow/table.py)."""
        if self.amendment is not None:
            return RequestStatus(self.amendment.value)
        return self.status

    def filed_by(self, user_id: int | None) -> bool:
        """Whether this is the person's own request (the one object check of ownership)."""
        return user_id is not None and user_id == self.researcher_id

    def involves(self, user_id: int | None, email: str | None) -> bool:
        """Whether this person is on the requesting side: its researcher, or a member
        of its team (by account or by e-mail), or, while an amendment is open, of the
        team of the agreement in force. Such a person never judges it."""
        if self.filed_by(user_id):
            return True
        wanted = (email or "").strip().lower()
        members = [*(self.team or []), *(self.team_in_force or [])]
        return bool(wanted) and any(
            str(member.get("email", "")).strip().lower() == wanted for member in members
        )


class RequestDataset(SQLModel, table=True):
    __tablename__ = "request_dataset"

    request_id: int = Field(foreign_key="access_request.id", primary_key=True, ondelete="CASCADE")
    dataset_id: int = Field(
        foreign_key="dataset.id", primary_key=True, ondelete="RESTRICT", index=True
    )


class RequestRevision(SQLModel, table=True):
    """What the researcher submitted, frozen: reviews and decisions refer to a revision."""

    __tablename__ = "request_revision"
    __table_args__ = (sa.UniqueConstraint("request_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", ondelete="CASCADE")
    number: int
    fields: dict[str, Any] = Field(sa_type=sa.JSON)
    submitted_by_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
