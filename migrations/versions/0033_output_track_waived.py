"""output_track.status may be waived: the Nation let its review of the outputs go

Waiving a Nation's "outputs reviewed before publication" releases the request's outputs
waiting for its review; its part in each reads waived. The downgrade turns waived parts
into approved ones, the nearest state the old code knew (the output was let through).

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-05 01:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("review", "decision", "approved", "refused")
AFTER = (*BEFORE, "waived")


def _states_may_be(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("output_track", recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f("ck_output_track_output_track_status"), type_="check")
        listed = ", ".join(f"'{value}'" for value in values)
        batch_op.create_check_constraint("output_track_status", f"status IN ({listed})")


def upgrade() -> None:
    _states_may_be(AFTER)


def downgrade() -> None:
    op.execute("UPDATE output_track SET status = 'approved' WHERE status = 'waived'")
    _states_may_be(BEFORE)
