"""Make a backup of the portal, and restore one into an empty database (or, with
``force``, over a database that holds one already). No Flask: the command line hands
over DATABASE_URL and the instance folder.

What a restore checks: the whole file before writing anything (archive.read), that
the database is of the same kind and a schema this portal knows; afterwards, that the
audit chain is intact and ends where the manifest says it ended when the backup was made.
"""

import importlib.metadata
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from portal import migrate
from portal.audit.verify import verify_chain
from portal.backup import archive, database, objects
from portal.backup.archive import BackupError
from portal.db import make_engine, utcnow
from portal.paths import private_dir
from portal.storage import s3

INSTANCE = "instance"
# Agreements were files here before migration 0012 put them in the database: a backup
# leaves the old copies out; restoring an older backup that has them still works (and
# `portal db upgrade` then moves them into the database).
OLD_AGREEMENTS = "agreements"


@dataclass(frozen=True)
class Restored:
    manifest: dict
    events: int  # how many audit events the restored chain holds
    last_event_id: int
    last_hash: str
    revision: str | None  # the restored database's Alembic revision
    head_revision: str  # the newest this portal knows: older means `portal db upgrade`

    @property
    def needs_upgrade(self) -> bool:
        return self.revision != self.head_revision


def backup(
    database_url: str, instance: Path, target: Path, store: s3.ObjectStore | None = None
) -> dict:
    """Write the backup file ``target``; its manifest. ``store``: the bucket the files
    whose rows hold no bytes are read from (objects.py)."""
    target, instance = target.resolve(), instance.resolve()
    if target.is_relative_to(instance):
        raise BackupError("write the backup outside the instance folder it copies")
    if not target.parent.is_dir():
        raise BackupError(f"there is no folder {target.parent}")
    kind = database.kind_of(database_url)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".portal-backup-") as folder:
        staging = Path(folder)
        state = database.dump(database_url, staging / database.member_for(kind))
        objects.copy_out(state.in_bucket, store, staging / objects.FOLDER)
        left_out = _database_files(database_url) | {instance / OLD_AGREEMENTS}
        _copy_tree(instance, staging / INSTANCE, skip=left_out)
        manifest = {
            "format": archive.FORMAT,
            "format_version": archive.FORMAT_VERSION,
            "created_at": utcnow().isoformat(),
            "portal_version": _portal_version(),
            "alembic_revision": state.revision,
            "database": kind,
            "audit_chain_head": {"last_event_id": state.last_event_id, "hash": state.last_hash},
            "members": archive.staged_members(staging),
        }
        archive.write(target, manifest, staging)
    return manifest


def restore(
    database_url: str,
    instance: Path,
    source: Path,
    *,
    force: bool = False,
    store: s3.ObjectStore | None = None,
) -> Restored:
    """Check ``source`` whole, then restore its database and instance files, and the
    stored files it holds into ``store`` (or, without one, their rows: objects.py)."""
    kind = database.kind_of(database_url)
    with tempfile.TemporaryDirectory(prefix=".portal-restore-") as folder:
        staging = Path(folder)
        manifest = archive.read(source, staging)
        if manifest.get("database") != kind:
            raise BackupError(f"the backup is of a {manifest.get('database')} database, not {kind}")
        if database.member_for(kind) not in manifest["members"]:
            raise BackupError("the backup holds no database")
        stored = objects.members(manifest)
        head_revision = _check_revision(database_url, manifest.get("alembic_revision"))
        if not force and not database.is_empty(database_url):
            raise BackupError(
                "the database is not empty: restore into a new database, "
                "or give --force to replace what it holds"
            )
        database.load(database_url, staging / database.member_for(kind))
        _copy_tree(staging / INSTANCE, instance.resolve())
        objects.put_back(
            database_url, {digest: staging / name for digest, name in stored.items()}, store
        )
    return _check_restored(database_url, manifest, head_revision)


def _check_revision(database_url: str, revision: str | None) -> str:
    """The newest revision this portal knows; refuses a backup made by a newer portal."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config(database_url))
    if revision is not None:
        try:
            scripts.get_revision(revision)
        except CommandError:
            raise BackupError(
                f"the backup's schema (revision {revision}) is newer than this portal's: "
                "install the portal that made it"
            ) from None
    return scripts.get_current_head()


def _check_restored(database_url: str, manifest: dict, head_revision: str) -> Restored:
    engine = make_engine(database_url)
    try:
        report = verify_chain(engine)
        if not report.intact:
            raise BackupError(f"restored, but the audit chain is broken: {report.problem}")
        with engine.connect() as connection:
            state = database.state_of(connection)
    finally:
        engine.dispose()
    expected = manifest["audit_chain_head"]
    if (state.last_event_id, state.last_hash) != (expected["last_event_id"], expected["hash"]):
        raise BackupError(
            f"restored, but the audit chain ends at event {state.last_event_id}, "
            f"not at event {expected['last_event_id']} as when the backup was made"
        )
    return Restored(
        manifest, report.events, state.last_event_id, state.last_hash, state.revision, head_revision
    )


def _copy_tree(source: Path, target: Path, skip: frozenset[Path] = frozenset()) -> None:
    """Every plain file under ``source`` to the same place under ``target``, 0600,
    each written whole and renamed into place. Links, files half-written by the
    portal (``*.partial``) and the files and folders in ``skip`` are left out."""
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        if path.is_symlink() or not path.is_file() or skip.intersection((path, *path.parents)):
            continue
        if path.name.endswith(".partial"):
            continue
        folder = private_dir(target / path.parent.relative_to(source))
        archive.copy_private(path, folder / path.name)


def _database_files(database_url: str) -> frozenset[Path]:
    """An SQLite database in the instance folder is backed up as the database, not as a file."""
    if database.kind_of(database_url) != "sqlite":
        return frozenset()
    path = database.sqlite_path(database_url).resolve()
    return frozenset(Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm", "-journal"))


def _portal_version() -> str:
    try:
        return importlib.metadata.version("stewardship-portal")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
