"""Audit events in words a person reads: what happened, and the details that matter."""

from typing import Any

from portal.audit.models import AuditEvent

EVENT_WORDS = {
    "request.created": "Draft started",
    "request.edited": "Draft edited",
    "request.submitted": "Submitted",
    "request.returned": "Returned to the researcher by screening",
    "request.screened": "Accepted by screening for the Nations' review",
    "request.withdrawn": "Withdrawn by the researcher",
    "request.changes_requested": "Changes requested by a steward",
    "review.recorded": "Steward review recorded",
    "decision.approved": "Approved by a Nation",
    "decision.refused": "Refused by a Nation",
    "request.revoked": "Revoked by a Nation",
    "agreement.signed": "Agreement signed",
    "agreement.downloaded": "Agreement downloaded",
    "request.expired": "Expired at the end of the agreement's term",
    "user.created": "Login created",
    "token.created": "API token created",
    "token.revoked": "API token revoked",
    "policy.loaded": "Governance rules loaded",
    "nation.registered": "Nation registered",
    "nation.profile_changed": "Governance profile changed",
    "nation.record_downloaded": "The Nation's record downloaded",
    "dataset.registered": "Dataset registered",
    "role.granted": "Role granted",
    "role.revoked": "Role taken away",
}

# Details shown, in this order, with their labels; anything else is left out of the
# summary (a page shows what a person needs, the chain keeps everything).
DETAIL_LABELS = {
    "revision": "revision",
    "recommendation": "recommendation",
    "conflict_of_interest": "conflict of interest declared",
    "reason": "reason",
    "comment": "comment",
    "role": "role",
    "user": "person",
    "format": "format",
}


def event_words(event: AuditEvent) -> str:
    return EVENT_WORDS.get(event.action, event.action)


def detail_lines(event: AuditEvent) -> list[str]:
    """The event's details as short lines: "reason: ...", "condition: ...", ..."""
    details: dict[str, Any] = event.details or {}
    if event.action == "nation.profile_changed":
        return [
            f"{name.replace('_', ' ')}: {_value(change[0])} → {_value(change[1])}"
            for name, change in sorted(details.items())
            if isinstance(change, list) and len(change) == 2
        ]
    lines = []
    for key, label in DETAIL_LABELS.items():
        value = details.get(key)
        if value in (None, "", False):
            continue
        lines.append(label if value is True else f"{label}: {_value(value)}")
    lines += [f"condition: {c.get('text', '')}" for c in details.get("conditions") or []]
    return lines


def _value(value: Any) -> str:
    if value in (None, "", []):
        return "none"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)
