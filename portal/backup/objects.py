"""The stored files kept in an S3-compatible bucket (STORAGE_S3_BUCKET): their rows
are in the database dump without bytes, so a backup copies the objects themselves into
``stored/<sha256>``, each checked against its digest, and a restore puts them back.

Where they go back: into the bucket the restoring portal is configured with (an object
still there is left as it is), so the restored portal keeps its files where its settings
say, as the one backed up did, and its rows stay exactly as they were backed up. With no
bucket configured, into their rows of the database, so the backup restores whole on a
host that has none (a trial restore, a move back to the database alone); the portal
reads a row's bytes whatever its settings.
"""

import hashlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import sqlalchemy as sa

from portal.backup.archive import BackupError
from portal.db import make_engine
from portal.paths import private_dir, write_private
from portal.storage import s3
from portal.storage.models import StoredFile

FOLDER = "stored"
stored_file = StoredFile.__table__


def copy_out(digests: Iterable[str], store: s3.ObjectStore | None, folder: Path) -> None:
    """Each object named in ``digests`` into ``folder``; a missing or changed one, or no
    bucket to read them from, raises BackupError (and no backup is written)."""
    digests = list(digests)
    if not digests:
        return
    if store is None:
        raise BackupError(
            f"{len(digests)} stored files are in an S3-compatible bucket, which is not "
            "configured here: set STORAGE_S3_BUCKET (and the rest) as for the portal"
        )
    private_dir(folder)
    for digest in digests:
        data = _read(store, digest)
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            raise BackupError(f"the stored file {digest} is missing from the bucket or changed")
        write_private(folder / digest, data)


def _read(store: s3.ObjectStore, digest: str) -> bytes | None:
    try:
        return store.read(digest)
    except s3.StoreError as error:
        raise BackupError(f"the bucket could not be read: {error}") from None


def members(manifest: dict) -> dict[str, str]:
    """The backup's stored files, by digest, with their names in it; a name that is not
    its member's SHA-256 (the archive checked each member against the manifest's hash)
    raises BackupError."""
    found = {}
    for name, digest in manifest["members"].items():
        path = PurePosixPath(name)
        if path.parts[0] != FOLDER:
            continue
        if len(path.parts) != 2 or path.name != digest:
            raise BackupError(f"the backup is damaged: {name} is not the file its name says")
        found[digest] = name
    return found


def put_back(database_url: str, files: dict[str, Path], store: s3.ObjectStore | None) -> None:
    """Each file (by digest) into ``store``, or into its row when there is none."""
    if not files:
        return
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            for digest, path in sorted(files.items()):
                data = path.read_bytes()
                if store is None:
                    row = stored_file.c.sha256 == digest
                    change = sa.update(stored_file).where(row, stored_file.c.data.is_(None))
                    connection.execute(change.values(data=data))
                else:
                    media_type = connection.execute(
                        sa.select(stored_file.c.media_type).where(stored_file.c.sha256 == digest)
                    ).scalar()
                    _write(store, digest, data, media_type or "application/octet-stream")
    finally:
        engine.dispose()


def _write(store: s3.ObjectStore, digest: str, data: bytes, media_type: str) -> None:
    try:
        store.write(digest, data, media_type)
    except s3.StoreError as error:
        raise BackupError(f"restored, but the bucket could not be written: {error}") from None
