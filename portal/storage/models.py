"""A file the portal keeps (an agreement's PDF, an output, an attestation), under its
SHA-256: its bytes in the row, or (``data`` empty) in the S3-compatible bucket the
portal is configured with (portal/storage/s3.py), so every application host serves the
same bytes and a backup holds them all."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.db import UTCDateTime, utcnow


class StoredFile(SQLModel, table=True):
    __tablename__ = "stored_file"

    sha256: str = Field(primary_key=True, max_length=64)  # hex digest of ``data``
    media_type: str = Field(max_length=100)
    size: int
    # None: the bytes are the object <STORAGE_S3_PREFIX><sha256> of the bucket.
    data: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
