"""Where the governance rules live at run time: Casbin policy rows and a version counter."""

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, enum_type, utcnow

RULE_FIELDS = ("v0", "v1", "v2", "v3", "v4", "v5")


class PolicyRule(SQLModel, table=True):
    """One Casbin policy line (``ptype, v0, v1, ...``), the layout Casbin's own adapters use.

    Role assignments are not kept here: RoleMembership is the one source of who
    holds which role, and the enforcer reads its ``g`` lines from there.
    """

    __tablename__ = "policy_rule"
    __table_args__ = (sa.UniqueConstraint("ptype", *RULE_FIELDS),)

    id: int | None = Field(default=None, primary_key=True)
    ptype: str = Field(max_length=8)
    v0: str = Field(default="", max_length=200)
    v1: str = Field(default="", max_length=200)
    v2: str = Field(default="", max_length=200)
    v3: str = Field(default="", max_length=200)
    v4: str = Field(default="", max_length=200)
    v5: str = Field(default="", max_length=200)
    # The policies/ file the line came from (``portal policy load`` replaces those);
    # empty for a line managed in the portal itself.
    source: str = Field(default="", max_length=200)

    @property
    def values(self) -> list[str]:
        values = [getattr(self, name) for name in RULE_FIELDS]
        while values and values[-1] == "":
            values.pop()
        return values


class PolicyVersion(SQLModel, table=True):
    """One row, bumped by every change to policy or roles; workers compare it before
    each request and rebuild their enforcer when it moved."""

    __tablename__ = "policy_version"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=0)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RulesOrigin(enum.StrEnum):
    """What made a version of the rules."""

    LOAD = "load"  # `portal policy load` while no member Nation existed (installation)
    NATION = "nation"  # a Nation set its own rules on its governance page
    PROPOSAL = "proposal"  # a portal-wide change the member Nations approved


class RulesVersion(SQLModel, table=True):
    """One version of the governance rules, kept whole and never changed: every policy
    line in force, the catalogue of standard conditions and the agreement's standard
    clauses. The newest is the one in force; decisions and agreements name theirs."""

    __tablename__ = "rules_version"

    number: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    origin: RulesOrigin = Field(sa_type=enum_type(RulesOrigin, "rules_origin"))
    summary: str = Field(default="", max_length=500)
    # Who made it: the representative who saved a Nation's rules, or who proposed the change.
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="RESTRICT")
    nation_id: int | None = Field(default=None, foreign_key="nation.id", ondelete="RESTRICT")
    proposal_id: int | None = Field(default=None, foreign_key="proposal.id", ondelete="RESTRICT")
    # Every policy line: [ptype, v0, v1, ...], in order.
    lines: list[list[str]] = Field(default_factory=list, sa_type=sa.JSON)
    # The standard conditions a Nation may attach: {code: {"label": ..., "text": ...}}.
    catalogue: dict[str, dict[str, str]] = Field(default_factory=dict, sa_type=sa.JSON)
    # The agreement's standard clauses, in order: [{"code", "title", "text", ...}].
    clauses: list[dict[str, str]] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProposalStatus(enum.StrEnum):
    OPEN = "open"  # waiting for the member Nations
    APPLIED = "applied"  # the approval rule was met: the change is in force
    REJECTED = "rejected"  # an objection stopped it, or approval became impossible
    WITHDRAWN = "withdrawn"  # its proposer took it back

    @property
    def label(self) -> str:
        return str(_PROPOSAL_LABELS[self.value])


# Lazy: each is read in the language of the page that shows it.
_PROPOSAL_LABELS = {
    "open": _l("Open"),
    "applied": _l("Applied"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
}


class Proposal(SQLModel, table=True):
    """A portal-wide change to the rules, put to the member Nations."""

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    explanation: str = Field(default="")
    status: ProposalStatus = Field(
        default=ProposalStatus.OPEN, sa_type=enum_type(ProposalStatus, "proposal_status")
    )
    # The person who proposed it; none for an operator's `portal policy load`.
    proposer_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    # The Nation its proposer spoke for (a representative), if any.
    nation_id: int | None = Field(default=None, foreign_key="nation.id", ondelete="RESTRICT")
    # The rules version it was written against, and the change set:
    # {"lines": {"add": [[...]], "remove": [[...]]}, "catalogue": {code: entry|null},
    #  "clauses": {code: clause|null}}
    base_version: int
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    # Who answers it: the member Nations that had a representative to answer for them
    # when it was made (their ids). Fixed then, so no one changes the count afterwards.
    electorate: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    # The version it made, once applied.
    applied_version: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Vote(enum.StrEnum):
    APPROVE = "approve"
    OBJECT = "object"


class ProposalVote(SQLModel, table=True):
    """A member Nation's answer to a proposal, given by one of its representatives."""

    __tablename__ = "proposal_vote"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "nation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE", index=True)
    nation_id: int = Field(foreign_key="nation.id", ondelete="RESTRICT")
    voter_id: int = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    vote: Vote = Field(sa_type=enum_type(Vote, "vote"))
    comment: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def rules_version_in_force(session) -> int | None:
    """The newest rules version's number (portal/policy/versions.py keeps them); here, in
    the data layer, so the agreement below the policy can name the one it was issued under."""
    return session.exec(sa.select(sa.func.max(RulesVersion.number))).scalar()


def _version(session, number: int | None) -> RulesVersion | None:
    return None if number is None else session.get(RulesVersion, number)


def catalogue_in_force(session) -> dict[str, dict[str, str]] | None:
    """The standard conditions of the rules in force; None before any version was kept
    (the decision then offers the defaults, portal/reviews/terms.py)."""
    return catalogue_of(session, rules_version_in_force(session))


def catalogue_of(session, number: int | None) -> dict[str, dict[str, str]] | None:
    """The standard conditions of version ``number``; None for no such version."""
    version = _version(session, number)
    return None if version is None else dict(version.catalogue)


def clauses_of(session, number: int | None) -> list[dict[str, str]] | None:
    """The agreement's standard clauses of version ``number`` (an agreement's own);
    None for an agreement issued before versions were kept."""
    version = _version(session, number)
    return None if version is None else [dict(clause) for clause in version.clauses]
