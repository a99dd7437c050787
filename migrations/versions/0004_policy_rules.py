"""policy rules: Casbin policy lines and the version workers compare before each request

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 05:32:29.519123
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import portal.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ptype", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("v0", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("v1", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("v2", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("v3", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("v4", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("v5", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_rule")),
        sa.UniqueConstraint(
            "ptype",
            "v0",
            "v1",
            "v2",
            "v3",
            "v4",
            "v5",
            name=op.f("uq_policy_rule_ptype_v0_v1_v2_v3_v4_v5"),
        ),
    )
    version = op.create_table(
        "policy_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_policy_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_version")),
    )
    # The one row; the policy rows themselves come from `portal policy load`.
    op.bulk_insert(version, [{"id": 1, "version": 0, "changed_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("policy_version")
    op.drop_table("policy_rule")
