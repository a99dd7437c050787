"""access_request.agreement_language: the language the researcher asks the agreement in,
English, French or both side by side (issue 13); requests made before it: English

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("access_request") as batch:
        batch.add_column(
            sa.Column(
                "agreement_language", sa.String(length=8), nullable=False, server_default="en"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("access_request") as batch:
        batch.drop_column("agreement_language")
