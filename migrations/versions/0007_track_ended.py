"""a Nation's track can end: a revision dropped its data (invariant 11)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("review", "decision", "approved", "refused", "revoked")
AFTER = (*BEFORE, "ended")


def _allow(statuses: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{status}'" for status in statuses)
    with op.batch_alter_table("nation_track", recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f("ck_nation_track_track_status"), type_="check")
        batch_op.create_check_constraint("track_status", f"status IN ({listed})")


def upgrade() -> None:
    _allow(AFTER)


def downgrade() -> None:
    op.execute("UPDATE nation_track SET status = 'refused' WHERE status = 'ended'")
    _allow(BEFORE)
