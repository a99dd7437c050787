"""Audit events in words a person reads: what happened, and the details that matter."""

from datetime import datetime
from typing import Any

from babel.dates import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.audit.events import EventType
from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.i18n import LOCALES, current_language
from portal.reviews.models import Recommendation

# Details shown, in this order, with their labels; anything else is left out of the
# summary (a page shows what a person needs, the chain keeps everything).
DETAIL_LABELS = {
    "revision": _l("revision"),
    "recommendation": _l("recommendation"),
    "conflict_of_interest": _l("conflict of interest declared"),
    "reason": _l("reason"),
    "comment": _l("comment"),
    "role": _l("role"),
    "user": _l("person"),
    "format": _l("format"),
    "body": _l("message"),
}


def event_words(event: AuditEvent) -> str:
    return action_words(event.action)


def action_words(action: str) -> str:
    try:
        return EventType(action).words
    except ValueError:  # an event of a kind this version no longer writes
        return action


def detail_lines(
    action: str, details: dict[str, Any] | None, conditions: list[str] | None = None
) -> list[str]:
    """An event's details as short lines: "reason: ...", "condition: ...", ...
    ``conditions``: its conditions as the page says them, else as stored."""
    details = details or {}
    if action == EventType.NATION_PROFILE_CHANGED:
        return [
            _(
                "%(field)s: %(before)s → %(after)s",
                field=name.replace("_", " "),
                before=_value(change[0]),
                after=_value(change[1]),
            )
            for name, change in sorted(details.items())
            if isinstance(change, list) and len(change) == 2
        ]
    lines = []
    for key, label in DETAIL_LABELS.items():
        value = details.get(key)
        if value in (None, "", False):
            continue
        if key == "recommendation":
            value = recommendation_words(value)
        label = str(label)
        lines.append(
            label if value is True else _("%(label)s: %(value)s", label=label, value=_value(value))
        )
    if conditions is None:
        conditions = [c.get("text", "") for c in details.get("conditions") or []]
    lines += [_("condition: %(text)s", text=text) for text in conditions]
    return lines


def recommendation_words(value: str) -> str:
    """A steward's recommendation as words ("recommends approval"), whatever was stored."""
    try:
        return Recommendation(value).label
    except ValueError:  # a word this version does not know: as it was stored
        return str(value)


def waited(since: datetime, now: datetime | None = None) -> str:
    """How long something has waited, as a person says it: "3 days", "2 hours"."""
    elapsed = (now or utcnow()) - since
    if elapsed.total_seconds() < 60:
        return _("less than a minute")
    return format_timedelta(elapsed, threshold=1.5, locale=LOCALES[current_language()])


def _value(value: Any) -> str:
    if value in (None, "", []):
        return _("none")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)
