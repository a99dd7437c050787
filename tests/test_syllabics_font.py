"""The vendored syllabics font: it draws every assigned code point of the Canadian
Aboriginal syllabics blocks, its files are the ones its README names, and every
stylesheet (pages, agreement, record) uses it for a name in syllabics."""

import hashlib
import re
import unicodedata

import pytest
from fontTools.ttLib import TTFont

from portal.pdf import STATIC_DIR

from helpers import sqlite_pass_only

pytestmark = sqlite_pass_only("the syllabics font")

FONT_DIR = STATIC_DIR / "fonts" / "noto-sans-canadian-aboriginal"
FILES = sorted(FONT_DIR.glob("*.woff2"))
BLOCKS = (range(0x1400, 0x1680), range(0x18B0, 0x1900))


def assigned() -> list[int]:
    # U+18F6-18FF are unassigned in Unicode: no font can have a glyph for them.
    return [cp for block in BLOCKS for cp in block if unicodedata.category(chr(cp)) != "Cn"]


def test_the_blocks_are_what_unicode_assigns():
    codes = assigned()
    assert len(codes) == 640 + 70  # all of U+1400-167F, and U+18B0-18F5
    assert 0x18F5 in codes and 0x18F6 not in codes and 0x167F in codes


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_syllabic_has_a_drawn_glyph(path):
    font = TTFont(path)
    cmap = font.getBestCmap()
    missing = [f"U+{cp:04X}" for cp in assigned() if cp not in cmap]
    assert missing == []
    glyphs = font.getGlyphSet()
    # A glyph with no outline would be as invisible as a missing one (.notdef aside).
    for cp in assigned():
        glyph = font["glyf"][cmap[cp]]
        assert glyph.numberOfContours != 0, f"U+{cp:04X} has an empty glyph"
        assert cmap[cp] != ".notdef" and cmap[cp] in glyphs


def test_the_files_are_the_ones_the_readme_names():
    readme = (FONT_DIR / "README.md").read_text()
    named = dict(re.findall(r"^\| (\S+\.woff2) \| ([0-9a-f]{64}) \|$", readme, re.MULTILINE))
    assert sorted(named) == [p.name for p in FILES] and len(FILES) == 2
    for path in FILES:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == named[path.name]
    assert "SIL Open Font License" in (FONT_DIR / "LICENSE").read_text()
    assert "@fontsource/noto-sans-canadian-aboriginal`, version 5.3.0" in readme


@pytest.mark.parametrize("sheet", ["portal.css", "agreement.css", "record-print.css"])
def test_every_stylesheet_uses_it_for_syllabics(sheet):
    css = (STATIC_DIR / sheet).read_text()
    for path in FILES:
        assert f'url("fonts/noto-sans-canadian-aboriginal/{path.name}")' in css
    assert re.search(r'\[lang\$="-Cans"\] \{ font-family: "Portal Syllabics"', css)
    assert "http" not in css.replace("http-equiv", "")  # nothing from elsewhere, no CDN


def test_the_pages_serve_the_font(client):
    response = client.get("/static/fonts/noto-sans-canadian-aboriginal/" + FILES[0].name)
    assert response.status_code == 200
    assert response.data == FILES[0].read_bytes()
    assert response.mimetype == "font/woff2"
