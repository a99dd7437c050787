"""A Nation's name in syllabics is drawn, not only present as text: in a real browser
(Chromium, screenshots of the name on a page) and in the PDFs (the record and the
agreement, rasterised with pdftoppm). Tofu — the box a font draws for a character it
lacks — looks the same for every character, so each check compares the drawings of
different syllabics (they must differ, and show ink), with a control showing that
characters no font has (unassigned code points) do come out as identical boxes.

The name mixes the main block with the Extended one (U+18B0-18F5), which the system's
DejaVu Sans lacks: only the vendored Noto Sans Canadian Aboriginal draws those."""

import io
import re
import subprocess

import pytest
from PIL import Image, ImageChops
from sqlmodel import select

from portal.agreements import service as agreements
from portal.db import session_scope
from portal.registry.service import get_nation
from portal.requests.models import AccessRequest

from browsers import needs_chromium, on_the_sqlite_pass, sign_in_as
from helpers import sign_in

CREE = "ᓀᐦᐃᔭᐍᐏᐣ"
EXTENDED = ["ᢰ", "ᢱ", "ᢲ", "ᣀ"]  # U+18B0, U+18B1, U+18B2, U+18C0
OWN_NAME = " ".join([CREE, *EXTENDED])

# Drawing glyphs depends on no database: the SQLite pass renders them.
pytestmark = on_the_sqlite_pass
UNASSIGNED = ["\u18f6", "\u18f7"]  # no font may have these: always .notdef


@pytest.fixture
def named(app, flow):
    with app.app_context(), session_scope() as session:
        nation = get_nation(session, "red-cedar")
        nation.name_own, nation.name_own_lang = OWN_NAME, "cr-Cans"
        session.add(nation)
    return flow


def inked(image: Image.Image) -> int:
    """How many pixels are dark (drawn), in a grey copy of the image."""
    return sum(image.convert("L").histogram()[:128])


def same(a: Image.Image, b: Image.Image) -> bool:
    a, b = a.convert("L"), b.convert("L")
    return a.size == b.size and ImageChops.difference(a, b).getbbox() is None


# --- a page -----------------------------------------------------------------------------

# Each probe in a box of its own at whole-pixel coordinates, so that two drawings of the
# same glyph are the same pixels (a span inside a line starts at a fraction of a pixel).
SHOW = """(chars) => chars.map((char, n) => {
    const span = document.createElement('span');
    span.className = 'own-name';
    span.lang = 'cr-Cans';
    span.id = 'probe-' + document.querySelectorAll('[id^=probe-]').length;
    span.textContent = char;
    span.style.cssText = 'position:absolute; left:' + (20 + 90 * n) + 'px; top:20px; ' +
        'min-width:80px; height:60px; font-size:32px; line-height:60px; ' +
        'background:#fff; color:#000; white-space:nowrap; z-index:10';
    document.body.appendChild(span);
    return span.id;
})"""


@needs_chromium
def test_a_page_draws_the_syllabic_name_with_the_shipped_font(named, live_server, page):
    sign_in_as(page, live_server, "rep.cedar@example.org")
    page.goto(f"{live_server.url}/nations/red-cedar/profile")
    name = page.locator('h1 .own-name[lang="cr-Cans"]')
    assert name.inner_text() == OWN_NAME
    page.evaluate("document.fonts.ready")
    loaded = page.evaluate(
        "() => [...document.fonts].filter(f => f.family.includes('Portal Syllabics'))"
        ".map(f => f.status)"
    )
    assert "loaded" in loaded, "the vendored font was fetched from the portal and used"
    whole = Image.open(io.BytesIO(name.screenshot()))
    assert inked(whole) > 200
    # Each syllabic on its own, and the control: two characters no font has.
    ids = page.evaluate(SHOW, [*EXTENDED, CREE[0], CREE[1], *UNASSIGNED])
    page.evaluate("document.fonts.ready")
    shots = [Image.open(io.BytesIO(page.locator(f"#{i}").screenshot())) for i in ids]
    drawn, tofu = shots[:-2], shots[-2:]
    assert same(*tofu), "the control: characters without a glyph come out as one same box"
    for n, image in enumerate(drawn):
        assert inked(image) > 10
        assert not same(image, tofu[0]), f"character {n} is drawn as tofu"
        for other in drawn[n + 1 :]:
            assert not same(image, other), "two different syllabics drawn alike"
    # The name is as wide as its glyphs, not as a row of boxes of the same length.
    boxes = page.evaluate(SHOW, [UNASSIGNED[0] * len(CREE)])
    cree = page.evaluate(SHOW, [CREE])
    width = lambda i: page.locator(f"#{i}").bounding_box()["width"]  # noqa: E731
    assert abs(width(boxes[0]) - width(cree[0])) > 1


# --- the PDFs ---------------------------------------------------------------------------


def words_of(pdf: bytes) -> list[tuple[str, float, float, float, float]]:
    """Each word pdftotext finds on the first page, with its box in points."""
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", "-", "-"],
        input=pdf, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        html,
    )
    return [(word, float(a), float(b), float(c), float(d)) for a, b, c, d, word in found]


def crop(pdf: bytes, box: tuple[float, float, float, float], dpi: int = 150) -> Image.Image:
    """The region of the first page, rasterised by pdftoppm."""
    scale = dpi / 72
    x, y = int(box[0] * scale) - 1, int(box[1] * scale) - 1
    w, h = int((box[2] - box[0]) * scale) + 3, int((box[3] - box[1]) * scale) + 3
    png = subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1",
         "-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h), "-"],
        input=pdf, capture_output=True, check=True,
    ).stdout  # fmt: skip
    return Image.open(io.BytesIO(png))


def fonts_of(pdf: bytes) -> str:
    return subprocess.run(
        ["pdffonts", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def assert_drawn(pdf: bytes) -> None:
    """The syllabics come back as text, from the embedded Noto font, each drawn apart."""
    listing = fonts_of(pdf)
    # WeasyPrint names an @font-face font by its CSS family: the vendored Noto files.
    noto = [line for line in listing.splitlines() if "Portal-Syllabics" in line]
    assert noto and all(re.search(r"\byes\s+yes\s+yes\b", line) for line in noto), listing
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    assert OWN_NAME in " ".join(text.stdout.decode().split())
    words = {word: box for word, *box in words_of(pdf)}
    assert set([CREE, *EXTENDED]) <= set(words), words.keys()
    images = [crop(pdf, words[word]) for word in [CREE, *EXTENDED]]
    for n, image in enumerate(images):
        assert inked(image) > 5, f"{[CREE, *EXTENDED][n]} left no ink"
        for other in images[n + 1 :]:
            assert not same(image, other), "two different syllabics drawn alike"


def test_the_nations_record_pdf_draws_the_syllabic_name(named, client):
    assert sign_in(client, "rep.cedar@example.org").status_code == 302
    response = client.get("/nations/red-cedar/record.pdf")
    assert response.status_code == 200
    assert_drawn(response.data)


def test_the_agreement_draws_the_syllabic_name(app, named):
    ref = named.approved()
    with app.app_context(), session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.ref == ref)).one()
        pdf = agreements.stored_pdf(session, agreements.current(session, request))
    assert_drawn(pdf)
