"""What a submitted output is, read from its bytes, never from its name.

A PDF starts with ``%PDF-``; anything else must be UTF-8 text without NUL characters;
text whose lines parse as CSV with the same number of columns (two or more) is a CSV
table. A name may only agree: a ``.csv`` name on a PDF, or a ``.pdf`` name on text, is
refused rather than trusted.
"""

import csv
import io
import re
from pathlib import PurePath

from babel.numbers import format_decimal
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.errors import ValidationError

PDF, CSV, TEXT = "application/pdf", "text/csv", "text/plain"
MEDIA_TYPES = (PDF, CSV, TEXT)
SUFFIXES = {PDF: "pdf", CSV: "csv", TEXT: "txt"}
# What each name's suffix may hold (a CSV is text too). Other suffixes claim nothing.
AGREES = {".pdf": {PDF}, ".csv": {CSV}, ".txt": {CSV, TEXT}}
LABELS = {PDF: _l("a PDF"), CSV: _l("a CSV table"), TEXT: _l("plain text")}


def _text(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def is_csv(text: str) -> bool:
    """Two or more rows, every one with the same number of columns, at least two."""
    try:
        rows = [row for row in csv.reader(io.StringIO(text), strict=True) if row]
    except csv.Error:
        return False
    widths = {len(row) for row in rows}
    return len(rows) >= 2 and len(widths) == 1 and widths.pop() >= 2


def media_type(data: bytes, filename: str = "") -> str:
    """The output's media type, or ValidationError naming ``file``."""
    if not data:
        raise ValidationError({"file": _("The file is empty.")})
    if data.startswith(b"%PDF-"):
        found = PDF
    elif (text := _text(data)) is None:
        raise ValidationError(
            {
                "file": _(
                    "The file must be a PDF, CSV or plain UTF-8 text: this one is none of them."
                )
            }
        )
    else:
        found = CSV if is_csv(text) else TEXT
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in AGREES and found not in AGREES[suffix]:
        if suffix == ".csv" and found == TEXT:
            message = _(
                "The file is named %(suffix)s but its content is %(found)s. "
                "A CSV table has the same number of columns on every row.",
                suffix=suffix,
                found=LABELS[found],
            )
        else:
            message = _(
                "The file is named %(suffix)s but its content is %(found)s.",
                suffix=suffix,
                found=LABELS[found],
            )
        raise ValidationError({"file": message})
    return found


def checked(data: bytes, filename: str, limit: int, kind: str | None = None) -> str:
    """The media type of a file the portal is asked to keep (an output, an obligation's
    report): at most ``limit`` bytes, type from the content; else ValidationError naming
    ``file``. ``kind`` names what the file is (default: "an output")."""
    if len(data) > limit:
        size, most = size_words(len(data)), size_words(limit)
        if kind is None:
            message = _(
                "The file is %(size)s; an output may be at most %(most)s.", size=size, most=most
            )
        else:
            message = _(
                "The file is %(size)s; %(kind)s may be at most %(most)s.",
                size=size,
                kind=kind,
                most=most,
            )
        raise ValidationError({"file": message})
    return media_type(data, filename)


def size_words(size: int) -> str:
    """The size in words, in the language spoken now (1.5 MB, 1,5 Mo)."""
    if size >= 1024 * 1024:
        return _("%(size)s MB", size=_decimal(size / (1024 * 1024), "0.0"))
    if size >= 1024:
        return _("%(size)s KB", size=_decimal(size / 1024, "0"))
    return _("%(size)s bytes", size=size)


def _decimal(value: float, pattern: str) -> str:
    locale = get_locale()
    if locale is None:  # outside a request and an application: as the API writes it
        return f"{value:.{pattern.count('0') - 1}f}"
    return format_decimal(value, pattern, locale=locale)


MAX_NAME = 255
_FOLDER_ENDS = re.compile(r"[/\\]")  # a folder's end, in either spelling


def own_name(errors: dict[str, str], filename: str | None) -> str:
    """The name an uploaded file is kept and shown under: the last part of the name as
    sent, after any folder in either spelling (found in a probe: ``../../x.pdf`` and
    ``C:\\Users\\a\\x.pdf`` were kept whole). "" when none was sent. Records in
    ``errors`` (as ``filename``) a name that is only folders, too long, or with NUL."""
    sent = (filename or "").strip()
    name = _FOLDER_ENDS.split(sent)[-1].strip()
    if sent and name in ("", ".", ".."):
        errors["filename"] = _(
            "The file name %(name)s is only folders: give the file's own name.", name=repr(sent)
        )
    elif len(name) > MAX_NAME or "\x00" in name:
        errors["filename"] = _("The file name must be at most 255 characters, without NUL.")
    return name


def safe_filename(filename: str) -> str:
    """The name as a Content-Disposition header may carry it (printable ASCII, no quote)."""
    return "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
