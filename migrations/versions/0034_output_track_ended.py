"""a Nation's part in an output can end: an amendment dropped its data (invariant 11)

An output submitted before an amendment dropped a Nation waited on that Nation for
good: it could no longer act on the request. Its open part now ends when the amendment
takes effect (workflow.outputs.end_dropped). The downgrade reads an ended part as
approved: the Nations still party decided the output without it.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-05 01:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("review", "decision", "approved", "refused", "waived")
AFTER = (*BEFORE, "ended")


def _allow(statuses: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{status}'" for status in statuses)
    with op.batch_alter_table("output_track", recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f("ck_output_track_output_track_status"), type_="check")
        batch_op.create_check_constraint("output_track_status", f"status IN ({listed})")


def upgrade() -> None:
    _allow(AFTER)


def downgrade() -> None:
    op.execute("UPDATE output_track SET status = 'approved' WHERE status = 'ended'")
    _allow(BEFORE)
