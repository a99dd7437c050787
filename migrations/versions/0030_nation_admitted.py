"""nation.admitted_at: when a Nation became a member that answers rule changes

A Nation registered once member Nations have a representative to answer joins the
vote on portal-wide rules only when the members approve its admission (a proposal).
Every Nation registered before this revision was a member from its registration, so
the upgrade admits each at its created_at.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nation") as batch_op:
        batch_op.add_column(
            sa.Column("admitted_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE nation SET admitted_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("nation") as batch_op:
        batch_op.drop_column("admitted_at")
