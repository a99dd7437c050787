"""Small checks that several services share, each adding a message per bad field."""

import re

from portal.errors import ValidationError

_EVENT_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits only: str.isdigit() takes "²"


def text(
    errors: dict[str, str],
    field: str,
    value: str | None,
    label: str,
    *,
    max_length: int,
    required: bool = True,
) -> str:
    """``value`` stripped; records in ``errors`` when it is empty (if required) or too long."""
    value = (value or "").strip()
    if required and not value:
        errors[field] = f"The {label} is empty."
    elif len(value) > max_length:
        errors[field] = f"The {label} must be at most {max_length} characters."
    return value


def event_cursor(field: str, value: str | None) -> int | None:
    """Where a page of audit events goes on from, read from a query string: nothing for
    the first page, else an event number. ValidationError naming ``field`` otherwise."""
    if value is None or value == "":
        return None
    if not _EVENT_NUMBER.fullmatch(value):
        raise ValidationError({field: f"{field} must be an event number such as 1234."})
    return int(value)
