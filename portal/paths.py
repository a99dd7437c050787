"""Where the portal finds its top-level folders (templates, migrations, policies), and
how it makes its own files in the instance folder: readable by its own account alone.

In a source checkout (and an editable install) they sit beside the package; a
built wheel carries copies under ``portal/_bundled``. Looking beside the package
first means a developer's edits are always the ones in effect.
"""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder ``name`` (``templates``, ``migrations`` or ``policies``)."""
    for candidate in (PACKAGE_DIR.parent / name, PACKAGE_DIR / "_bundled" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the portal's {name}/ folder is missing from this installation")


# The instance folder holds the database, keys, agreements and mail: nobody else's.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` made (with its parents) if missing; a folder it makes is 0700."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, created 0600 (an existing file is made 0600 too)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), PRIVATE_FILE_MODE)
        file.write(data)
