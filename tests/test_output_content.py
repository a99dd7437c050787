"""An output's type is read from its content, never trusted from its name
(portal/lifecycle/outputs/content.py)."""

import pytest

from portal.errors import ValidationError
from portal.lifecycle.outputs.content import CSV, PDF, TEXT, media_type

PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (PDF_BYTES, "report.pdf", PDF),
        (PDF_BYTES, "report", PDF),
        (b"Region,Count\nNorth,12\nSouth,3\n", "table.csv", CSV),
        (b"Region,Count\nNorth,12\n", "table.txt", CSV),
        (b"Region,Count\nNorth,12\n", "whatever.dat", CSV),
        ("Résumé des résultats.\nAucun tableau.\n".encode(), "summary.txt", TEXT),
        (b"\xef\xbb\xbfRegion,Count\nNorth,12\n", "bom.csv", CSV),
    ],
)
def test_the_type_comes_from_the_content(data, name, expected):
    assert media_type(data, name) == expected


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (PDF_BYTES, "table.csv", "named .csv but its content is a PDF"),
        (b"Region,Count\nNorth,12\n", "report.pdf", "named .pdf but its content is a CSV"),
        (b"Region,Count\nNorth,12,4\nSouth\n", "table.csv", "same number of columns"),
        (b"just words\n", "table.csv", "named .csv but its content is plain text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image.png", "PDF, CSV or plain UTF-8 text"),
        (b"text with a \x00 inside", "notes.txt", "PDF, CSV or plain UTF-8 text"),
        (b"\xff\xfe not utf-8", "notes.txt", "PDF, CSV or plain UTF-8 text"),
        (b"", "empty.csv", "The file is empty."),
    ],
)
def test_a_name_that_disagrees_or_an_unknown_content_is_refused(data, name, says):
    with pytest.raises(ValidationError) as refused:
        media_type(data, name)
    assert list(refused.value.errors) == ["file"]
    assert says in refused.value.errors["file"]
