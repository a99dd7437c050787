"""The backup file: a manifest first, then the members it lists by SHA-256.

Reading checks everything before anything is used: the manifest is this format's, every
member is a plain file with a safe name that the manifest lists, with the hash it lists,
and none is missing. A damaged or foreign file raises BackupError.
"""

import hashlib
import io
import json
import os
import secrets
import shutil
import tarfile
from pathlib import Path, PurePosixPath

from portal.errors import ServiceError
from portal.paths import PRIVATE_FILE_MODE, private_dir

FORMAT = "stewardship-portal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# database/: the database; instance/: the instance folder's files; stored/: the files
# kept in an S3-compatible bucket, each named by its SHA-256 (service.py).
FOLDERS = frozenset({"database", "instance", "stored"})
CHUNK = 1024 * 1024


class BackupError(ServiceError):
    """The backup cannot be made, or the file is not a sound backup; nothing was written."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def staged_members(staging: Path) -> dict[str, str]:
    """Every file under ``staging``, by its name in the archive, with its SHA-256."""
    return {
        path.relative_to(staging).as_posix(): sha256_of(path)
        for path in sorted(staging.rglob("*"))
        if path.is_file()
    }


def open_partial(target: Path) -> tuple[Path, int]:
    """A new file beside ``target``, 0600, to write whole and then rename over it."""
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    return partial, os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)


def copy_private(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` (0600): whole beside it, then renamed into place."""
    partial, descriptor = open_partial(target)
    with os.fdopen(descriptor, "wb") as out, source.open("rb") as data:
        shutil.copyfileobj(data, out)
    os.replace(partial, target)


def write(target: Path, manifest: dict, staging: Path) -> None:
    """Write the archive of ``staging`` to ``target`` (0600, whole, then renamed in place)."""
    partial, descriptor = open_partial(target)
    try:
        with os.fdopen(descriptor, "wb") as file, tarfile.open(fileobj=file, mode="w:gz") as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
            for name in manifest["members"]:
                tar.add(staging / name, arcname=name, recursive=False, filter=_plain)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:

    info = _plain(tarfile.TarInfo(name))
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Nothing of this host in the archive: no owner names, ids or times beyond the manifest's.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = PRIVATE_FILE_MODE
    return info


def read(source: Path, staging: Path) -> dict:
    """Unpack ``source`` into ``staging`` (an empty private folder) and check it whole;
    the manifest. Raises BackupError for a damaged or foreign file."""
    try:
        with tarfile.open(source, mode="r:gz") as tar:
            return _unpack(tar, staging)
    except (tarfile.TarError, EOFError, OSError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise BackupError(f"{source.name} is not a readable backup: {reason}") from None


def _unpack(tar: tarfile.TarFile, staging: Path) -> dict:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isfile():
        raise BackupError("not a portal backup: it does not begin with a manifest")
    manifest = _manifest(tar.extractfile(first).read())
    expected: dict[str, str] = manifest["members"]
    seen: set[str] = set()
    while (member := tar.next()) is not None:  # iterating would begin again at the manifest
        name = member.name
        if name not in expected or name in seen or not member.isfile() or not _safe(name):
            raise BackupError(f"the backup holds {name!r}, which its manifest does not list")
        target = private_dir((staging / name).parent) / PurePosixPath(name).name
        digest = hashlib.sha256()
        with tar.extractfile(member) as data, target.open("wb") as out:
            while chunk := data.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != expected[name]:
            raise BackupError(f"the backup is damaged: {name} does not match its SHA-256")
        seen.add(name)
    if missing := sorted(set(expected) - seen):
        raise BackupError(f"the backup is incomplete: {missing[0]} is missing")
    return manifest


def _manifest(data: bytes) -> dict:
    try:
        manifest = json.loads(data)
    except ValueError:
        raise BackupError("not a portal backup: its manifest is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("not a portal backup: its manifest is of another format")
    if manifest.get("format_version") != FORMAT_VERSION:
        version = manifest.get("format_version")
        raise BackupError(f"backup format {version} is not one this portal reads")
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(
        isinstance(name, str) and _safe(name) and isinstance(digest, str)
        for name, digest in members.items()
    ):
        raise BackupError("not a portal backup: its manifest's member list is malformed")
    return manifest


def _safe(name: str) -> bool:
    """A relative path below the archive's folders: no "..", no absolute path."""
    path = PurePosixPath(name)
    return (
        not path.is_absolute()
        and ".." not in path.parts
        and len(path.parts) >= 2
        and path.parts[0] in FOLDERS
    )
