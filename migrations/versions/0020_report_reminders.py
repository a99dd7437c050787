"""nation.remind_report_days: how long an obligation's report may be overdue before the
researcher is reminded (issue 11)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 09:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
# 0019 (renewal and amendment) is on another branch: at the merge this becomes "0019".
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAYS = "remind_report_days"


def upgrade() -> None:
    with op.batch_alter_table("nation", schema=None) as batch_op:
        batch_op.add_column(sa.Column(DAYS, sa.Integer(), nullable=True))
        batch_op.create_check_constraint(f"{DAYS}_positive", f"{DAYS} IS NULL OR {DAYS} >= 1")
    # Nations registered before: the same two weeks a new Nation starts with.
    op.execute(sa.table("nation", sa.column(DAYS, sa.Integer)).update().values({DAYS: 14}))


def downgrade() -> None:
    with op.batch_alter_table("nation", schema=None) as batch_op:
        batch_op.drop_constraint(f"{DAYS}_positive", type_="check")
        batch_op.drop_column(DAYS)
