"""stored_file.data may be empty: the file's bytes are then the object <prefix><sha256>
of the S3-compatible bucket the portal is configured with (STORAGE_S3_BUCKET); rows
written before keep their bytes and are read from the database as before

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 16:20:00

The downgrade copies every file the bucket holds back into its row (each checked
against its digest), from the bucket the environment configures (STORAGE_S3_*, as for
``portal serve``), so nothing is lost; without one, or with a file missing or changed,
it stops and the column stays as it is.
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from portal import config as portal_config
from portal.storage import s3

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

stored_file = sa.table(
    "stored_file", sa.column("sha256", sa.String), sa.column("data", sa.LargeBinary)
)


def upgrade() -> None:
    with op.batch_alter_table("stored_file") as batch:
        batch.alter_column("data", existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    connection = op.get_bind()
    query = sa.select(stored_file.c.sha256).where(stored_file.c.data.is_(None))
    in_bucket = list(connection.execute(query).scalars())
    if in_bucket:
        settings = s3.settings_from(portal_config.from_environment())
        if settings is None:
            raise RuntimeError(
                f"{len(in_bucket)} stored files are in an S3-compatible bucket: set "
                "STORAGE_S3_BUCKET (and the rest, as for the portal) to copy them back"
            )
        store = s3.ObjectStore(settings)
        for digest in in_bucket:
            data = store.read(digest)
            if data is None or hashlib.sha256(data).hexdigest() != digest:
                raise RuntimeError(f"stored file {digest} is missing or changed in the bucket")
            update = stored_file.update().where(stored_file.c.sha256 == digest)
            connection.execute(update.values(data=data))
    with op.batch_alter_table("stored_file") as batch:
        batch.alter_column("data", existing_type=sa.LargeBinary(), nullable=False)
