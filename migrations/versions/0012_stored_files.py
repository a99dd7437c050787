"""stored files: agreements (and later outputs, attestations) kept in the database by
their SHA-256; the agreement files of the instance folder moved in

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 06:13:31.680782

The instance folder is the one ``portal db upgrade`` was given (``migrate.upgrade``'s
``instance``), else the portal's own setting (PORTAL_INSTANCE). Only the files the
database names (``agreement_version.sha256``) move, each checked against its digest;
the files stay where they were, but the portal no longer reads them.
"""

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
import sqlmodel
from alembic import context, op

import portal.db
from portal import config as portal_config
from portal.paths import private_dir, write_private

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
PDF = "application/pdf"

stored_file = sa.table(
    "stored_file",
    sa.column("sha256", sa.String),
    sa.column("media_type", sa.String),
    sa.column("size", sa.Integer),
    sa.column("data", sa.LargeBinary),
    sa.column("created_at", portal.db.UTCDateTime(timezone=True)),
)


def agreements_folder() -> Path:
    configured = context.config.attributes.get("instance_path") if context.config else None
    instance = Path(configured) if configured else portal_config.instance_path()
    return instance / "agreements"


def named_digests(connection: sa.Connection) -> list[str]:
    query = "SELECT DISTINCT sha256 FROM agreement_version ORDER BY sha256"
    return [row[0] for row in connection.exec_driver_sql(query)]


def upgrade() -> None:
    op.create_table(
        "stored_file",
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_stored_file")),
    )
    folder = agreements_folder()
    if not folder.is_dir():
        return
    connection = op.get_bind()
    for digest in named_digests(connection):
        path = folder / f"{digest}.pdf"
        if not path.is_file():
            log.warning("agreement file %s is not in %s: not moved", path.name, folder)
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            log.warning("agreement file %s was changed on disk: not moved", path.name)
            continue
        row = {"sha256": digest, "media_type": PDF, "size": len(data), "data": data}
        connection.execute(sa.insert(stored_file).values(**row, created_at=portal.db.utcnow()))


def downgrade() -> None:
    # Nothing is lost: each agreement file only the database holds goes back to the folder.
    connection = op.get_bind()
    folder = agreements_folder()
    for digest in named_digests(connection):
        target = folder / f"{digest}.pdf"
        query = sa.select(stored_file.c.data).where(stored_file.c.sha256 == digest)
        data = connection.execute(query).scalar()
        if data is not None and not target.exists():
            write_private(private_dir(folder) / target.name, bytes(data))
    op.drop_table("stored_file")
