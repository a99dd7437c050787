"""Small checks that several services share, each adding a message per bad field."""

import re
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.errors import ValidationError

# Every character that ends a line for Python's str.splitlines() (and so for the mail
# library's header check) or is otherwise a control character.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_EVENT_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits only: str.isdigit() takes "²"
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# The fields' names the services give ``text``, in the language spoken (a label not
# listed here is shown as given).
LABELS = {
    "name": _l("name"),
    "institution": _l("institution"),
    "token name": _l("token name"),
    "title": _l("title"),
    "custodian": _l("custodian"),
    "French name": _l("French name"),
    "name in the Nation's own language": _l("name in the Nation's own language"),
    "community's wording": _l("community's wording"),
    "place of publication": _l("place of publication"),
}


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
    shown = str(LABELS.get(label, label))
    if required and not value:
        errors[field] = _("The %(label)s is empty.", label=shown)
    elif len(value) > max_length:
        errors[field] = _(
            "The %(label)s must be at most %(count)s characters.", label=shown, count=max_length
        )
    return value


def event_cursor(field: str, value: str | None) -> int | None:
    """Where a page of audit events goes on from, read from a query string: nothing for
    the first page, else an event number. ValidationError naming ``field`` otherwise."""
    if value is None or value == "":
        return None
    if not _EVENT_NUMBER.fullmatch(value):
        raise ValidationError(
            {field: _("%(field)s must be an event number such as 1234.", field=field)}
        )
    return int(value)


# email_validator says what is wrong with an address in English only: its commonest
# reasons, in the language spoken (a reason not listed here is shown as it says it).
EMAIL_REASONS = {
    "An email address must have an @-sign.": _l("An email address must have an @-sign."),
    "There must be something before the @-sign.": _l("There must be something before the @-sign."),
    "There must be something after the @-sign.": _l("There must be something after the @-sign."),
    "An email address cannot have two periods in a row.": _l(
        "An email address cannot have two periods in a row."
    ),
    "The part after the @-sign is not valid. It should have a period.": _l(
        "The part after the @-sign is not valid. It should have a period."
    ),
    "The email address contains invalid characters before the @-sign.": _l(
        "The email address contains invalid characters before the @-sign."
    ),
    "There can't be anything after the email address.": _l(
        "There can't be anything after the email address."
    ),
}


def email_reason(error: Exception) -> str:
    """Why email_validator refused an address, in the language spoken where it can be."""
    said = str(error)
    return str(EMAIL_REASONS.get(said, said))


def day(value: str) -> date:
    """A calendar day written YYYY-MM-DD and nothing else; ValueError otherwise. (Python's
    date.fromisoformat also reads 20270630 and 2027-W26-3, which no one typing a day
    means, and which a form would then echo back as another day.)"""
    if not _DAY.fullmatch(value):
        raise ValueError(f"not a day written YYYY-MM-DD: {value!r}")
    return date.fromisoformat(value)
