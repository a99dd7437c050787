"""Compiles the translation catalogues when the package is built (pip install, editable
included): each portal/translations/<locale>/LC_MESSAGES/<domain>.po becomes the .mo
file Flask-Babel reads. The .mo files are build output, never committed.

After editing a .po file by hand, run this file (``python portal/translations/hatch_build.py``)
or reinstall; tests/test_translations.py fails while a .mo is older than its .po.
"""

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

HERE = Path(__file__).resolve().parent


def compile_catalogues(directory: Path = HERE) -> list[Path]:
    """Write the .mo beside every .po under ``directory``; returns the files written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po_file in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        with po_file.open("rb") as source:
            catalog = read_po(source)
        mo_file = po_file.with_suffix(".mo")
        with mo_file.open("wb") as target:
            write_mo(target, catalog)
        written.append(mo_file)
    return written


class CompileTranslations(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        compile_catalogues(Path(self.root) / "portal" / "translations")


if __name__ == "__main__":
    for path in compile_catalogues():
        print(f"compiled {path.relative_to(HERE.parent.parent)}")
