"""obligations: what an active request's researcher owes each Nation

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(
        *values, name=name, native_enum=False, create_constraint=True, length=max(map(len, values))
    )


def upgrade() -> None:
    op.create_table(
        "obligation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("nation_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_kind", _enum("due_kind", "date", "period", "event"), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("period_months", sa.Integer(), nullable=True),
        sa.Column("due_event", _enum("due_event", "before_publication", "at_end"), nullable=True),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.Column(
            "state",
            _enum("obligation_state", "open", "reported", "met", "not_met", "waived"),
            nullable=False,
        ),
        sa.Column("report_text", sa.Text(), nullable=False),
        sa.Column("report_file_digest", sa.String(length=64), nullable=True),
        sa.Column("reported_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("assessment_comment", sa.Text(), nullable=False),
        sa.Column("tell_researcher", sa.Boolean(), nullable=False),
        sa.Column("assessed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("assessed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessed_by_id"],
            ["user_account.id"],
            name=op.f("fk_obligation_assessed_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["nation_id"],
            ["nation.id"],
            name=op.f("fk_obligation_nation_id_nation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_request.id"],
            name=op.f("fk_obligation_request_id_access_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligation")),
    )
    with op.batch_alter_table("obligation", schema=None) as batch_op:
        batch_op.create_index("ix_obligation_state_due", ["state", "next_due"], unique=False)
        batch_op.create_index(batch_op.f("ix_obligation_nation_id"), ["nation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_obligation_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("obligation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_obligation_request_id"))
        batch_op.drop_index(batch_op.f("ix_obligation_nation_id"))
        batch_op.drop_index("ix_obligation_state_due")
    op.drop_table("obligation")
