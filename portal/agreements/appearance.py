"""Visible signatures: each party's block in the agreement shows, once signed, who
signed, in which role, for which Nation, and when, so a printed copy shows it too.

The issued PDF gets an empty signature field per party over the template's box for it
(``add_fields``, before anyone signs); signing fills that field with an appearance
drawn in DejaVu Sans, the agreement's own font, which covers the French accents and
the syllabics of the names (``stamp``). A PDF without such a field (an agreement
issued before, a destruction attestation) is signed in an invisible one, as before.
"""

import io
from functools import lru_cache

from cryptography import x509
from cryptography.x509.oid import NameOID
from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.font.opentype import CIDFontType2, GlyphAccumulator, _read_ps_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields
from pyhanko.stamp import TextStampStyle

from portal.agreements.layout import SignatureBox
from portal.pdf import STATIC_DIR

FONT = STATIC_DIR / "fonts" / "DejaVuSans.ttf"
# What the appearance says; %(ts)s is the signing time, which pyHanko fills in.
STAMP_TEXT = "Signed by %(signer)s\n%(title)s\n%(organisation)s\n%(ts)s"
TIME_FORMAT = "%Y-%m-%d %H:%M UTC"
TIME_CHARACTERS = "0123456789-: UTC"
FONT_SIZE = 8
# The layout tables (and FontForge's timestamp): the stamp needs no shaping, see _font_for.
UNNEEDED_TABLES = ["FFTM", "GSUB", "GPOS", "GDEF", "kern"]


def add_fields(pdf: bytes, boxes: dict[str, SignatureBox]) -> bytes:
    """``pdf`` with an empty signature field named after each party, over its box."""
    if not boxes:
        return pdf
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    for name, box in boxes.items():
        spec = fields.SigFieldSpec(sig_field_name=name, on_page=box.page, box=box.rect)
        fields.append_signature_field(writer, spec)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


@lru_cache(maxsize=1)
def _dejavu() -> bytes:
    return FONT.read_bytes()


@lru_cache(maxsize=128)
def _font_for(text: str) -> bytes:
    """DejaVu Sans cut to the characters of ``text`` (and the time's) and scaled to
    1000 units per em: pyHanko writes glyph widths in the font's own units, which PDF
    reads as thousandths of an em, so DejaVu's 2048 units would be drawn twice as wide.
    Made once per signer (cached); each signature embeds these bytes as they are."""
    font = TTFont(io.BytesIO(_dejavu()))
    # Only what drawing a few lines needs. The syllabics and accented letters are
    # glyphs of their own in DejaVu Sans (no shaping needed), so the layout tables go;
    # deleted before subsetting, since fontTools' subsetter otherwise parses GSUB and
    # GPOS in full even when told to drop them (two thirds of the cut's time).
    for tag in UNNEEDED_TABLES:
        if tag in font:
            del font[tag]
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.drop_tables += UNNEEDED_TABLES
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text + TIME_CHARACTERS)
    subsetter.subset(font)
    scale_upem(font, 1000)
    data = io.BytesIO()
    font.save(data)
    return data.getvalue()


class _CutFontFile(CIDFontType2):
    """The font program embedded as ``_font_for`` made it, instead of fontTools writing
    the parsed font out again (the costliest step of drawing a signature)."""

    def __init__(self, engine: GlyphAccumulator, cut: bytes) -> None:
        super().__init__(engine.tt, _read_ps_name(engine.tt), engine.subset_prefix)
        self.cut = cut

    def set_font_file(self, writer) -> generic.IndirectObject:
        stream = generic.StreamObject(stream_data=self.cut)
        stream.compress()
        reference = writer.add_object(stream)
        self._font_descriptor[generic.NameObject("/FontFile2")] = reference
        return reference


class _CutFontEngine(GlyphAccumulator):
    """pyHanko's OpenType engine over a font already cut to the stamp's characters.
    pyHanko would cut it again to the glyphs drawn and write it anew at each signature
    (fontTools: most of the time drawing a signature took); the same outlines, widths and
    glyph ids are embedded either way, the cut font only keeping a few digits unused.
    Nothing is shared between signatures but the immutable bytes, so threads are safe."""

    def __init__(self, writer, cut: bytes, obj_stream=None) -> None:
        super().__init__(writer, io.BytesIO(cut), FONT_SIZE, obj_stream=obj_stream)
        self.cidfont_obj = _CutFontFile(self, cut)

    def _extract_subset(self, options=None) -> None:
        """Already cut (``_font_for``)."""


class _StampFont(FontEngineFactory):
    """The engine for one signer's stamp."""

    def __init__(self, text: str) -> None:
        self.text = text

    def create_font_engine(self, writer, obj_stream=None) -> GlyphAccumulator:
        return _CutFontEngine(writer, _font_for(self.text), obj_stream=obj_stream)


def stamp(values: dict[str, str]) -> TextStampStyle:
    """The appearance of a signature by the signer ``values`` names (stamp_values)."""
    text = STAMP_TEXT % {**values, "ts": ""}
    return TextStampStyle(
        stamp_text=STAMP_TEXT,
        text_box_style=TextBoxStyle(
            font=_StampFont(text), font_size=FONT_SIZE, leading=FONT_SIZE + 2
        ),
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MID
        ),
        border_width=0,
        timestamp_format=TIME_FORMAT,
        background=None,
    )


def stamp_values(certificate: x509.Certificate) -> dict[str, str]:
    """The signer's name, role (and Nation) and organisation, as their certificate
    names them: what the portal's CA certified, not what the document says."""

    def part(oid) -> str:
        values = certificate.subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else ""

    return {
        "signer": part(NameOID.COMMON_NAME),
        "title": part(NameOID.TITLE),
        "organisation": part(NameOID.ORGANIZATION_NAME),
    }
