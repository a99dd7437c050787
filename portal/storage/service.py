"""Content-addressed storage: ``put`` a file, ``get`` it back by its SHA-256.

The database is the store (table ``stored_file``), so any number of hosts behind a load
balancer read the same files and a database backup holds every one. This module is the
one place another backend (an S3-compatible store) would plug in: ``put`` and ``get``
are all the rest of the portal calls. Flush, never commit.
"""

import hashlib

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from portal.errors import ServiceError
from portal.storage.models import StoredFile


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(session: Session, data: bytes, media_type: str) -> str:
    """Keep ``data``; its SHA-256 (hex). Putting the same bytes again writes nothing."""
    digest = digest_of(data)
    known = select(StoredFile.sha256).where(StoredFile.sha256 == digest)  # not its bytes
    if session.exec(known).first() is None:
        # Two transactions may put the same bytes at once: the second inserts nothing.
        connection = session.connection()
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        row = StoredFile(sha256=digest, media_type=media_type, size=len(data), data=data)
        insert = dialect.insert(StoredFile).values(**row.model_dump())
        connection.execute(insert.on_conflict_do_nothing())
    return digest


def get(session: Session, digest: str) -> bytes:
    """The bytes stored under ``digest``, checked against it: a missing file or one
    whose bytes no longer match raises ServiceError, and nothing is served."""
    stored = session.exec(select(StoredFile.data).where(StoredFile.sha256 == digest)).first()
    if stored is None:
        raise ServiceError(f"The stored file {digest} is missing.")
    data = bytes(stored)
    if digest_of(data) != digest:
        raise ServiceError(f"The stored file {digest} was changed; it is not used.")
    return data


def media_type_of(session: Session, digest: str) -> str | None:
    """The media type a file was kept with (None if there is none), without its bytes."""
    query = select(StoredFile.media_type).where(StoredFile.sha256 == digest)
    return session.exec(query).first()
