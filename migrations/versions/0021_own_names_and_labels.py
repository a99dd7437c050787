"""A Nation's and a dataset's names in French and in the Nation's own language, and the
Local Contexts TK and BC Labels and Notices a Nation attaches to its datasets (issue 13)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 09:11:25.183291
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMES = (("name_fr", 200), ("name_own", 200), ("name_own_lang", 35))


def upgrade() -> None:
    op.create_table(
        "dataset_label",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("nation_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("wording", sa.String(length=2000), nullable=False),
        sa.Column("hub_url", sa.String(length=500), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_label_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["nation_id"],
            ["nation.id"],
            name=op.f("fk_dataset_label_nation_id_nation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_label")),
        sa.UniqueConstraint(
            "dataset_id",
            "nation_id",
            "code",
            name=op.f("uq_dataset_label_dataset_id_nation_id_code"),
        ),
    )
    with op.batch_alter_table("dataset_label", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_label_dataset_id"), ["dataset_id"], unique=False
        )

    # The same three names on both tables (portal/registry/names.py).
    for table in ("dataset", "nation"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, length in NAMES:
                batch_op.add_column(
                    sa.Column(name, sa.String(length=length), server_default="", nullable=False)
                )


def downgrade() -> None:
    for table in ("nation", "dataset"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _length in reversed(NAMES):
                batch_op.drop_column(name)

    with op.batch_alter_table("dataset_label", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_label_dataset_id"))

    op.drop_table("dataset_label")
