"""What the agreement's PDF carries besides its text, set while WeasyPrint writes it: the
embedded terms as an associated file, and where each party's signature is drawn."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pydyf

# WeasyPrint lays pages out in CSS pixels; a PDF's user space is in points.
POINTS_PER_PIXEL = 0.75
SIGNATURE_ID = "signature-"  # the template's box for a party: signature-<field name>


@dataclass(frozen=True)
class EmbeddedFile:
    name: str
    data: bytes = field(repr=False)
    media_type: str
    description: str
    # How it relates to the document (ISO 32000-2, 7.11.3): "Supplement", a
    # representation of its content that is easier to consume (here, by machines).
    relationship: str = "Supplement"


@dataclass(frozen=True)
class SignatureBox:
    """Where a party's signature appearance goes: a page (from 0) and a rectangle in
    PDF points from the page's bottom left (left, bottom, right, top)."""

    page: int
    rect: tuple[int, int, int, int]


def associate(attachment: EmbeddedFile) -> Callable[[Any, pydyf.PDF], None]:
    """WeasyPrint's finisher: mark the embedded file as the document's associated file
    (the catalog's /AF and the file's /AFRelationship, as PDF/A-3 does) with its media
    type, without claiming PDF/A conformance for the whole document."""

    def finish(_document: Any, pdf: pydyf.PDF) -> None:
        specs = [o for o in pdf.objects if isinstance(o, dict) and o.get("Type") == "/Filespec"]
        for spec in specs:
            spec["AFRelationship"] = f"/{attachment.relationship}"
            stream = pdf.objects[int(spec["EF"]["F"].split()[0])]
            stream.extra["Subtype"] = "/" + attachment.media_type.replace("/", "#2f")
        pdf.catalog["AF"] = pydyf.Array(spec.reference for spec in specs)

    return finish


def signature_boxes(document: Any) -> dict[str, SignatureBox]:
    """Each ``signature-<field>`` element of the rendered ``document`` (WeasyPrint's),
    by field name: the page it is on and its rectangle, turned into PDF points."""
    boxes = {}
    for number, page in enumerate(document.pages):
        for anchor, (x1, y1, x2, y2) in page.anchors.items():
            if anchor.startswith(SIGNATURE_ID):
                left, right = x1 * POINTS_PER_PIXEL, x2 * POINTS_PER_PIXEL
                top = (page.height - y1) * POINTS_PER_PIXEL
                bottom = (page.height - y2) * POINTS_PER_PIXEL
                rect = (round(left), round(bottom), round(right), round(top))
                boxes[anchor.removeprefix(SIGNATURE_ID)] = SignatureBox(number, rect)
    return boxes
