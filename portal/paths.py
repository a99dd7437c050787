"""Where the portal finds its top-level folders (templates, migrations, policies).

In a source checkout (and an editable install) they sit beside the package; a
built wheel carries copies under ``portal/_bundled``. Looking beside the package
first means a developer's edits are always the ones in effect.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder ``name`` (``templates``, ``migrations`` or ``policies``)."""
    for candidate in (PACKAGE_DIR.parent / name, PACKAGE_DIR / "_bundled" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the portal's {name}/ folder is missing from this installation")
