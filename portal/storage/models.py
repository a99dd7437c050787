"""A file the portal keeps (an agreement's PDF, an output, an attestation), stored in
the database under its SHA-256, so every application host serves the same bytes and a
database backup holds them all."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, utcnow


class StoredFile(SQLModel, table=True):
    __tablename__ = "stored_file"

    sha256: str = Field(primary_key=True, max_length=64)  # hex digest of ``data``
    media_type: str = Field(max_length=100)
    size: int
    data: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
