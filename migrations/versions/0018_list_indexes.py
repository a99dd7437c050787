"""access_request (updated_at, id): lists of requests, the most recently changed first

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 06:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The home page's list and GET /api/v1/requests walk requests newest change first
    # and stop after a page; without this index the database sorts every visible request.
    op.create_index(
        "ix_access_request_updated_at_id", "access_request", ["updated_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_access_request_updated_at_id", table_name="access_request")
