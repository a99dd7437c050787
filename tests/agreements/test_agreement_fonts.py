"""Syllabics and accents are real glyphs in the fonts embedded in the PDF (text
extraction alone would pass with empty boxes), and WeasyPrint fetches nothing but
the portal's own static files."""

import io
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from weasyprint import HTML

from portal.pdf import STATIC_DIR, RefusedURL, StaticFilesOnly

from agreement_kit import RESEARCHER_NAME
from helpers import sqlite_pass_only

pytestmark = sqlite_pass_only("the fonts in the agreement")

SHIPPED_FONT = STATIC_DIR / "fonts" / "DejaVuSans.ttf"


def embedded_fonts(pdf: bytes) -> list[tuple[str, TTFont, dict[int, str]]]:
    """(name, font program, glyph id -> text) of every embedded TrueType font."""
    fonts = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            program = descendant["/FontDescriptor"]["/FontFile2"].get_object().get_data()
            fonts[str(font["/BaseFont"])] = (TTFont(io.BytesIO(program)), to_unicode(font))
    return [(name, font, mapping) for name, (font, mapping) in fonts.items()]


def to_unicode(font) -> dict[int, str]:
    """The font's ToUnicode map (bfchar and bfrange entries, as WeasyPrint writes them)."""
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    mapping = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for gid, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(gid, 16)] = bytes.fromhex(text).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for start, end, text in re.findall(r"<(\w+)>\s*<(\w+)>\s*<(\w+)>", block):
            first = ord(bytes.fromhex(text).decode("utf-16-be"))
            for offset, gid in enumerate(range(int(start, 16), int(end, 16) + 1)):
                mapping[gid] = chr(first + offset)
    return mapping


def outline(font: TTFont, glyph_name: str) -> list[tuple[int, int]]:
    """The glyph's points, composite glyphs (É = E + ´) resolved into their parts."""
    coordinates, _ends, _flags = font["glyf"][glyph_name].getCoordinates(font["glyf"])
    return list(coordinates)


@pytest.mark.parametrize("text", [RESEARCHER_NAME, "Université", "Métis"])
def test_embedded_font_draws_every_character(issued, text):
    original = TTFont(SHIPPED_FONT)
    original_cmap = original.getBestCmap()
    regular = [
        (font, mapping)
        for name, font, mapping in embedded_fonts(issued.signed)
        if name.endswith("Agreement-Sans")
    ]
    assert len(regular) == 1, "the regular weight of the shipped font is embedded once"
    font, mapping = regular[0]
    by_text = {char: gid for gid, char in mapping.items()}
    for char in {c for c in text if not c.isspace()}:
        assert char in by_text, f"{char!r} (U+{ord(char):04X}) is not in the embedded font"
        gid = by_text[char]
        # WeasyPrint keeps glyph ids when subsetting: the glyph must be the shipped
        # font's own drawing of that character, with contours, not .notdef.
        assert gid == original.getGlyphID(original_cmap[ord(char)])
        points = outline(font, font.getGlyphName(gid))
        assert points, f"{char!r} is an empty glyph"
        assert points == outline(original, original_cmap[ord(char)])


def test_the_shipped_font_covers_the_syllabics_used():
    cmap = TTFont(SHIPPED_FONT).getBestCmap()
    syllabics = [cp for cp in range(0x1400, 0x1680) if cp in cmap]
    assert all(ord(char) in cmap for char in "ᓀᐦᐃᔭᐍᐏᐣ ᐃᓄᒃᑎᑐᑦ ᐊᓂᔑᓈᐯᒧᐎᓐ éèàçôÉ")
    assert len(syllabics) >= 400  # Cree, Ojibwe, Inuktitut and more of U+1400–167F


@pytest.fixture
def listener():
    """A local web server that records every request made to it."""
    hits = []

    class Record(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"p { color: red }")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Record)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.css",
        "https://example.org/font.ttf",
        "file:///etc/passwd",
        (STATIC_DIR / ".." / "__init__.py").as_uri(),
        "data:text/css,p{color:red}",
        "ftp://example.org/x",
    ],
)
def test_the_fetcher_refuses_anything_but_static_files(url):
    with pytest.raises(RefusedURL):
        StaticFilesOnly().fetch(url)


def test_the_fetcher_serves_static_files():
    response = StaticFilesOnly().fetch(SHIPPED_FONT.as_uri())
    assert response.read() == SHIPPED_FONT.read_bytes()
    assert response.content_type == "font/ttf"


def test_a_rendered_document_reaches_nothing_outside(listener, tmp_path):
    base, hits = listener
    secret = tmp_path / "secret.css"
    secret.write_text("p { color: blue }")
    html = (
        f'<link rel="stylesheet" href="{base}/sheet.css">'
        f'<link rel="stylesheet" href="{secret.as_uri()}">'
        f'<img src="{base}/image.png"><p style="background: url({base}/bg.png)">Hello</p>'
    )
    pdf = HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=StaticFilesOnly())
    assert pdf.write_pdf().startswith(b"%PDF")
    assert hits == []
    HTML(string=html).write_pdf()  # WeasyPrint's own fetcher would have gone out
    assert sorted(hits) == ["/bg.png", "/image.png", "/sheet.css"]
