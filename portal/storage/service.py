"""Content-addressed storage: ``put`` a file, ``get`` it back by its SHA-256.

Every file has a row in ``stored_file`` (digest, media type, size). Its bytes are in
the row, or, when the app is configured with an S3-compatible bucket
(STORAGE_S3_BUCKET, see s3.py), in the object ``<prefix><sha256>`` and not in the row.
Either way any number of hosts behind a load balancer read the same files, and a
backup holds every one (``portal backup`` copies the objects the rows point to). A row
with bytes is read from the database whatever the setting, so turning S3 on moves
nothing. ``put`` and ``get`` are all the rest of the portal calls. Flush, never commit.

create_app() registers the app's configuration per database engine (``configure``), so
a service with only its session finds the store, and two apps never mix their buckets.
"""

import hashlib
import logging
import weakref
from collections.abc import Mapping

from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from portal.db import engine_of
from portal.errors import ServiceError
from portal.storage import s3
from portal.storage.models import StoredFile

log = logging.getLogger(__name__)

_configs: "weakref.WeakKeyDictionary[Engine, Mapping]" = weakref.WeakKeyDictionary()
_stores: "weakref.WeakKeyDictionary[Engine, s3.ObjectStore]" = weakref.WeakKeyDictionary()


def configure(engine: Engine, config: Mapping) -> None:
    """Let sessions on ``engine`` find the app's store (create_app calls this)."""
    if s3.settings_from(config) is not None:
        s3.check_installed()
    _configs[engine] = config
    _stores.pop(engine, None)


def object_store(session: Session) -> s3.ObjectStore | None:
    """The bucket this session's app keeps new files in; None: the database."""
    engine = engine_of(session)
    if engine in _stores:
        return _stores[engine]
    settings = s3.settings_from(_configs.get(engine, {}))
    if settings is None:
        return None
    # Made on first use, once per app: a client costs some milliseconds to build.
    return _stores.setdefault(engine, s3.ObjectStore(settings))


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(session: Session, data: bytes, media_type: str) -> str:
    """Keep ``data``; its SHA-256 (hex). Putting the same bytes again writes nothing."""
    digest = digest_of(data)
    known = select(StoredFile.sha256).where(StoredFile.sha256 == digest)  # not its bytes
    if session.exec(known).first() is None:
        store = object_store(session)
        if store is not None:
            # Uploaded before the row is written: a row never names an object that was
            # not stored. An object left by a transaction that rolls back names its own
            # bytes and harms nothing; it is never deleted.
            _write(store, digest, data, media_type)
        # Two transactions may put the same bytes at once: the second inserts nothing.
        connection = session.connection()
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        row = StoredFile(
            sha256=digest,
            media_type=media_type,
            size=len(data),
            data=None if store is not None else data,
        )
        insert = dialect.insert(StoredFile).values(**row.model_dump())
        connection.execute(insert.on_conflict_do_nothing())
    return digest


def get(session: Session, digest: str) -> bytes:
    """The bytes stored under ``digest``, checked against it: a missing file or one
    whose bytes no longer match raises ServiceError, and nothing is served."""
    query = select(StoredFile.sha256, StoredFile.data).where(StoredFile.sha256 == digest)
    row = session.exec(query).first()
    if row is None:
        raise ServiceError(f"The stored file {digest} is missing.")
    data = bytes(row.data) if row.data is not None else read_object(session, digest)
    if digest_of(data) != digest:
        raise ServiceError(f"The stored file {digest} was changed; it is not used.")
    return data


def read_object(session: Session, digest: str) -> bytes:
    """The unchecked bytes of a file kept in the bucket (its row has none)."""
    store = object_store(session)
    if store is None:
        log.error("stored file %s is in an S3-compatible store; STORAGE_S3_BUCKET is unset", digest)
        raise ServiceError(f"The stored file {digest} is missing.")
    try:
        data = store.read(digest)
    except s3.StoreError as error:
        log.error("stored file %s could not be read: %s", digest, error)
        raise ServiceError(f"The stored file {digest} could not be read.") from None
    if data is None:
        raise ServiceError(f"The stored file {digest} is missing.")
    return data


def _write(store: s3.ObjectStore, digest: str, data: bytes, media_type: str) -> None:
    try:
        store.write(digest, data, media_type)
    except s3.StoreError as error:
        log.error("stored file %s could not be written: %s", digest, error)
        raise ServiceError(_("The file could not be stored; try again later.")) from None


def media_type_of(session: Session, digest: str) -> str | None:
    """The media type a file was kept with (None if there is none), without its bytes."""
    query = select(StoredFile.media_type).where(StoredFile.sha256 == digest)
    return session.exec(query).first()
