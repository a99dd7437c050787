"""Visible signatures (issue 13, part 6): each party's block in the agreement shows,
once signed, who signed, in which role, for which Nation and when, drawn in the
agreement's own font (syllabics included), so a printed signed copy shows it."""

import io
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image
from pypdf import PdfReader

from portal.agreements import appearance, ca, signing
from portal.agreements.settings import AgreementSettings

from agreement_kit import RESEARCHER_NAME, need_poppler
from helpers import sqlite_pass_only

pytestmark = sqlite_pass_only("the signatures' appearance")

FIELDS = ["Researcher", "Nation-blue-heron", "Nation-red-cedar"]  # the parties' order
STAMPS = {
    "Researcher": [f"Signed by {RESEARCHER_NAME}", "Researcher", "Université crie (fictional)"],
    "Nation-blue-heron": [
        "Signed by rep.heron",
        "Representative of Blue Heron Métis (fictional)",
        "Blue Heron Métis (fictional)",
    ],
    "Nation-red-cedar": [
        "Signed by rep.cedar",
        "Representative of Red Cedar Nation (fictional)",
        "Red Cedar Nation (fictional)",
    ],
}


def widgets(pdf: bytes) -> dict[str, dict]:
    """The signature widgets of the last page, by field name."""
    page = PdfReader(io.BytesIO(pdf)).pages[-1]
    found = {}
    for annotation in page.get("/Annots", []):
        annotation = annotation.get_object()
        if annotation.get("/FT") == "/Sig":
            found[str(annotation["/T"])] = annotation
    return found


def test_the_issued_agreement_has_an_empty_field_in_each_partys_block(issued):
    issued_fields = widgets(issued.versions[0])
    assert list(issued_fields) == FIELDS
    assert all("/V" not in field for field in issued_fields.values()), "nothing signed yet"
    tops = [float(field["/Rect"][3]) for field in issued_fields.values()]
    assert tops == sorted(tops, reverse=True), "in the order the template lists the parties"
    for field in issued_fields.values():
        left, bottom, right, top = (float(value) for value in field["/Rect"])
        assert 0 < left < right <= 612 and 0 < bottom < top <= 792  # on the Letter page
        assert top - bottom == pytest.approx(44, abs=1)  # the template's box: 44pt high
    signed_fields = widgets(issued.signed)
    assert [field["/Rect"] for field in signed_fields.values()] == [
        field["/Rect"] for field in issued_fields.values()
    ], "each party signed in its own field, where the template put it"
    assert all("/V" in field and "/AP" in field for field in signed_fields.values())


def pdftotext(pdf: bytes) -> str:
    need_poppler("pdftotext")
    done = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode()


def test_each_block_shows_who_signed_in_which_role_for_which_nation_and_when(issued):
    assert "Signed by" not in pdftotext(issued.versions[0])
    lines = pdftotext(issued.signed).splitlines()
    reports = signing.read_signatures(issued.signed, issued.ca_certificate)
    assert [report.field_name for report in reports] == ["Researcher", *FIELDS[1:][::-1]]
    for report in reports:
        first, role, organisation = STAMPS[report.field_name]
        at = lines.index(first)
        when = report.claimed_time.strftime("%Y-%m-%d %H:%M UTC")
        assert lines[at : at + 4] == [first, role, organisation, when], report.field_name


def page_image(pdf: bytes, tmp_path, name: str) -> Image.Image:
    need_poppler("pdftoppm")
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    prefix = tmp_path / name
    subprocess.run(
        ["pdftoppm", "-r", "72", "-gray", "-png", "-f", str(pages), "-l", str(pages),
         "-singlefile", str(path), str(prefix)],
        check=True,
    )  # fmt: skip
    return Image.open(f"{prefix}.png").convert("L")


def dark_pixels(image: Image.Image, rect) -> int:
    """How many pixels are drawn (not near white) inside a PDF rectangle (72 dpi)."""
    left, bottom, right, top = (float(value) for value in rect)
    height = image.height
    box = (int(left) + 2, int(height - top) + 2, int(right) - 2, int(height - bottom) - 2)
    return sum(image.crop(box).histogram()[:128])


def test_a_printed_signed_copy_shows_the_signatures(issued, tmp_path):
    """A screenshot of the last page: each box is blank as issued and drawn once signed
    (the researcher's with the syllabics of their name)."""
    before = page_image(issued.versions[0], tmp_path, "issued")
    after = page_image(issued.signed, tmp_path, "signed")
    for name, field in widgets(issued.signed).items():
        assert dark_pixels(before, field["/Rect"]) == 0, name
        assert dark_pixels(after, field["/Rect"]) > 200, name


def test_signatures_drawn_at_once_in_threads_each_show_their_signer(issued, tmp_path):
    """The portal may sign in several threads of one process: the font cut for each
    signer is made once and shared (appearance._font_for), and every signature drawn
    at the same time shows its own signer and holds."""
    authority = ca.authority(AgreementSettings(instance_path=tmp_path, secret="threads"))
    names = ["ᐊᓂᔑᓈᐯ Thread", "Zoé Fil", "ᐊᓂᔑᓈᐯ Thread", "Zoé Fil"]
    credentials = []
    for name in names:
        key, certificate = ca.issue(authority, ca.signer_name(name, "Org", "Role", "t@x.org"))
        credentials.append(signing.Credential(key, certificate, authority.certificate))
    appearance._font_for.cache_clear()  # so the threads make the cuts at the same time

    def sign(credential) -> bytes:
        return signing.sign(issued.versions[0], "Researcher", credential, reason="r", name="n")

    with ThreadPoolExecutor(max_workers=4) as pool:
        signed = list(pool.map(sign, credentials))
    for pdf, name in zip(signed, names, strict=True):
        [report] = signing.read_signatures(pdf, authority.certificate)
        assert (report.signer, report.intact, report.valid, report.trusted) == (name, *[True] * 3)
        assert f"Signed by {name}" in pdftotext(pdf).splitlines()
