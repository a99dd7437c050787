"""Where the governance rules live at run time: Casbin policy rows and a version counter."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, utcnow

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
