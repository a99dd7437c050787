"""dataset_nation.added_at: when a correction added a Nation to a dataset

A Nation added to a dataset after the requests using it ended was never asked about
them, so they are not its requests. The Nations named when a dataset is registered,
and every link made before this revision, keep no date (NULL): held from the start.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_nation") as batch_op:
        batch_op.add_column(
            sa.Column("added_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("dataset_nation") as batch_op:
        batch_op.drop_column("added_at")
