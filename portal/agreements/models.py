"""Data-use agreements: the document, each stored version of its PDF, each party's
signature, and the signing credentials the portal's certificate authority issued."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, enum_type, utcnow


class AgreementStatus(enum.StrEnum):
    AWAITING_SIGNATURES = "awaiting_signatures"
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"
    VOID = "void"  # refused, withdrawn or ended before every party signed
    SUPERSEDED = "superseded"  # a later edition took effect; this one is never edited
    ENDED = "ended"  # its researcher closed access early (revoked, expired: the Nation, time)

    @property
    def label(self) -> str:
        return str(_AGREEMENT_LABELS[self.value])


# Lazy: each is read in the language of the page that shows it.
_AGREEMENT_LABELS = {
    "awaiting_signatures": _l("Awaiting signatures"),
    "active": _l("Active"),
    "revoked": _l("Revoked"),
    "expired": _l("Expired"),
    "void": _l("Void"),
    "superseded": _l("Superseded"),
    "ended": _l("Ended early"),
}


class Agreement(SQLModel, table=True):
    """One edition of a request's data-use agreement, issued when every Nation approved
    a revision: edition 1 as access begins, one more for each renewal or amendment."""

    __table_args__ = (
        sa.CheckConstraint("term_end >= term_start", name="term_ordered"),
        sa.UniqueConstraint("request_id", "edition"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", ondelete="CASCADE", index=True)
    edition: int = Field(default=1)
    revision: int  # the request revision the Nations approved
    language: str = Field(default="en", max_length=8)  # the language of the signed text
    status: AgreementStatus = Field(
        default=AgreementStatus.AWAITING_SIGNATURES,
        sa_type=enum_type(AgreementStatus, "agreement_status"),
    )
    term_start: date
    term_end: date
    # The latest version: every signature adds one (see AgreementVersion).
    version: int = Field(default=0)
    sha256: str = Field(max_length=64)
    # The version of the governance rules (its standard clauses) it was issued under.
    rules_version: int | None = Field(default=None)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When the last party signed: access under this edition began (None: not yet).
    effective_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AgreementVersion(SQLModel, table=True):
    """One stored PDF: version 0 as issued, version n after the n-th signature.
    The file is kept in the shared storage under its SHA-256 (portal/storage)."""

    __tablename__ = "agreement_version"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id", ondelete="CASCADE")
    number: int
    sha256: str = Field(max_length=64, index=True)
    size: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReadingCopy(SQLModel, table=True):
    """A reading copy the portal made of an edition in another language: no signature,
    binding no one. Kept by its SHA-256 so /verify can name it for what it is rather
    than as a document the portal never issued."""

    __tablename__ = "reading_copy"

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id", ondelete="CASCADE", index=True)
    sha256: str = Field(max_length=64, unique=True)
    language: str = Field(max_length=8)
    made_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgreementSignature(SQLModel, table=True):
    """A party's signature. ``party`` is "researcher" or "nation:<id>": one each, ever."""

    __tablename__ = "agreement_signature"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "party"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id", ondelete="CASCADE")
    party: str = Field(max_length=32)
    signer_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT", index=True)
    role: str = Field(max_length=32)
    nation_id: int | None = Field(default=None, foreign_key="nation.id", ondelete="RESTRICT")
    field_name: str = Field(max_length=64)
    credential_id: int = Field(foreign_key="signer_credential.id", ondelete="RESTRICT")
    signed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sha256_after: str = Field(max_length=64)


class SignerCredential(SQLModel, table=True):
    """A signer's EC P-256 key and the certificate the portal CA issued for it, naming
    the person, their role and Nation. The key is stored encrypted (see ca.py)."""

    __tablename__ = "signer_credential"
    __table_args__ = (sa.Index("ix_signer_credential_user_id_role", "user_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    role: str = Field(max_length=32)
    nation_id: int | None = Field(default=None, foreign_key="nation.id", ondelete="RESTRICT")
    fingerprint: str = Field(max_length=64, unique=True)  # SHA-256 of the certificate
    certificate_pem: str
    encrypted_key: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
