"""Jobs and reminders: the periodic jobs' schedule and failures, expiry notices and
reminders sent, outbox messages kept as failed, each Nation's reminder intervals.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 06:14:18.104962
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import portal.db

REMINDER_DAYS = ("remind_review_days", "remind_decision_days", "remind_signature_days")
revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "failed_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("runner", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("failed_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retried_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_job")),
    )
    with op.batch_alter_table("failed_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_failed_job_name"), ["name"], unique=False)

    op.create_table(
        "job_schedule",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("next_run_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_run_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_schedule")),
    )
    op.create_table(
        "expiry_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("sent_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_request.id"],
            name=op.f("fk_expiry_notice_request_id_access_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expiry_notice")),
        sa.UniqueConstraint(
            "request_id", "days_before", name=op.f("uq_expiry_notice_request_id_days_before")
        ),
    )
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("nation_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["nation_id"],
            ["nation.id"],
            name=op.f("fk_reminder_nation_id_nation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_request.id"],
            name=op.f("fk_reminder_request_id_access_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder")),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index("ix_reminder_request_id_step", ["request_id", "step"], unique=False)

    with op.batch_alter_table("nation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remind_review_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("remind_decision_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("remind_signature_days", sa.Integer(), nullable=True))
        for days in REMINDER_DAYS:
            batch_op.create_check_constraint(f"{days}_positive", f"{days} IS NULL OR {days} >= 1")
    # Nations registered before: the same two weeks a new Nation starts with.
    nation = sa.table("nation", *(sa.column(days, sa.Integer) for days in REMINDER_DAYS))
    op.execute(nation.update().values(dict.fromkeys(REMINDER_DAYS, 14)))

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("failed_at")

    with op.batch_alter_table("nation", schema=None) as batch_op:
        for days in REMINDER_DAYS:
            batch_op.drop_constraint(f"{days}_positive", type_="check")
        batch_op.drop_column("remind_signature_days")
        batch_op.drop_column("remind_decision_days")
        batch_op.drop_column("remind_review_days")

    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_request_id_step")

    op.drop_table("reminder")
    op.drop_table("expiry_notice")
    op.drop_table("job_schedule")
    with op.batch_alter_table("failed_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_failed_job_name"))

    op.drop_table("failed_job")
