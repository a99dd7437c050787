"""People, their roles, and their API tokens."""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, enum_type, utcnow


class Role(enum.StrEnum):
    RESEARCHER = "researcher"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    STEWARD = "steward"
    REPRESENTATIVE = "representative"

    @property
    def per_nation(self) -> bool:
        """Stewards and representatives act for one Nation; the others portal-wide."""
        return self in NATION_ROLES

    @property
    def label(self) -> str:
        """The role's name on a page, in the language spoken (Researcher, Steward...)."""
        return str(_ROLE_LABELS.get(self.value, self.value.capitalize()))


_ROLE_LABELS = {
    "researcher": _l("Researcher"),
    "coordinator": _l("Coordinator"),
    "admin": _l("Admin"),
    "steward": _l("Steward"),
    "representative": _l("Representative"),
}

NATION_ROLES = frozenset({Role.STEWARD, Role.REPRESENTATIVE})


class User(UserMixin, SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)  # stored lower-cased
    name: str = Field(max_length=200)
    institution: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=200)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Stored in the Flask session at sign-in and compared on every request: bumping it
    # (sign-out, a new password, deactivation) ends every session of this person.
    session_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Two-factor sign-in (TOTP, RFC 6238): the base32 secret, set when enrolment starts;
    # in force once a first code confirmed it (totp_enabled_at).
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last time step whose code was accepted: a code is good once (RFC 6238, 5.2).
    totp_last_step: int | None = Field(default=None, sa_type=sa.BigInteger)
    # The language the portal speaks to this person, on pages and in mail (portal/i18n.py):
    # "en" or "fr"; empty until chosen, when the browser's preference is followed.
    language: str | None = Field(default=None, max_length=8)

    @property
    def is_active(self) -> bool:  # flask-login asks this before letting anyone in
        return self.active

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)


class RoleMembership(SQLModel, table=True):
    """A role a person holds: portal-wide (``nation_id`` empty) or for one Nation."""

    __tablename__ = "role_membership"
    __table_args__ = (
        sa.CheckConstraint(
            "(role IN ('steward', 'representative')) = (nation_id IS NOT NULL)",
            name="nation_roles_have_a_nation",
        ),
        sa.Index("ix_role_membership_nation_id_role", "nation_id", "role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    role: Role = Field(sa_type=enum_type(Role, "role"))
    nation_id: int | None = Field(default=None, foreign_key="nation.id", ondelete="CASCADE")
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A bearer token for the API. Only its SHA-256 is kept; the token is shown once."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)  # the first characters, so a person can tell tokens apart
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# The policy actions an invitation may be made under (policy.vocabulary.Action): an
# administrator's portal-wide `invite`, or a representative's `invite_member` in a Nation.
INVITATION_AUTHORITIES = ("invite", "invite_member")


class Invitation(SQLModel, table=True):
    """An invitation to take up a role, sent by e-mail. Only the SHA-256 of its link's
    token is kept; the link works once, until ``expires_at``, unless revoked first."""

    __tablename__ = "invitation"
    __table_args__ = (
        sa.CheckConstraint(
            "(role IN ('steward', 'representative')) = (nation_id IS NOT NULL)",
            name="nation_roles_have_a_nation",
        ),
        sa.CheckConstraint("authority IN ('invite', 'invite_member')", name="authority_known"),
        sa.Index("ix_invitation_email", "email"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)  # stored lower-cased
    role: Role = Field(sa_type=enum_type(Role, "role"))
    nation_id: int | None = Field(default=None, foreign_key="nation.id", ondelete="CASCADE")
    authority: str = Field(max_length=20)  # one of INVITATION_AUTHORITIES
    token_hash: str = Field(max_length=64, unique=True)
    invited_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by_id: int | None = Field(default=None, foreign_key="user_account.id")

    def state(self, now: datetime) -> str:
        """pending, accepted, revoked or expired."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "pending"


class PasswordResetToken(SQLModel, table=True):
    """A "forgot password" link: good for an hour, once. Only its SHA-256 is kept."""

    __tablename__ = "password_reset_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RecoveryCode(SQLModel, table=True):
    """One of the ten single-use codes that stand in for a lost authenticator. Only its
    SHA-256 is kept (each carries 60 random bits)."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
