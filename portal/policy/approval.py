"""The approval rule of a proposed portal-wide change: how many member Nations must
approve, and whether one objection stops it (GOVERNANCE_APPROVAL and
GOVERNANCE_OBJECTION_STOPS in portal/config.py). Silence is never consent: a Nation that
has not answered counts neither way, and nothing here reads the clock."""

import enum
from dataclasses import dataclass

from flask import current_app, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import config
from portal.errors import ServiceError


class Outcome(enum.Enum):
    WAITING = "waiting"
    APPROVED = "approved"
    REJECTED = "rejected"


class RuleNotKnown(ServiceError):
    """GOVERNANCE_APPROVAL names no rule this portal knows: nothing is decided by it."""


# How many of ``members`` Nations must approve, by the rule's name.
_NEEDED = {
    "majority": lambda members: members // 2 + 1,  # more than half
    "two_thirds": lambda members: -(-2 * members // 3),  # at least two thirds
    "all": lambda members: members,
}
_WORDS = {"majority": _l("more than half"), "two_thirds": _l("two thirds"), "all": _l("every one")}


@dataclass(frozen=True)
class ApprovalRule:
    approval: str = config.GOVERNANCE_APPROVAL
    objection_stops: bool = config.GOVERNANCE_OBJECTION_STOPS

    def __post_init__(self) -> None:
        if self.approval not in _NEEDED:
            raise RuleNotKnown(
                f"GOVERNANCE_APPROVAL is {self.approval!r}: set it to majority, two_thirds or all."
            )

    def needed(self, members: int) -> int:
        """Approvals needed: at least one, since a change nobody approved never applies."""
        return max(1, _NEEDED[self.approval](members))

    def outcome(self, members: int, approvals: int, objections: int) -> Outcome:
        if self.objection_stops and objections:
            return Outcome.REJECTED
        needed = self.needed(members)
        if approvals >= needed:
            return Outcome.APPROVED
        if members - objections < needed:  # even if every other Nation approved
            return Outcome.REJECTED
        return Outcome.WAITING

    def words(self, members: int) -> str:
        """ "3 of 5 member Nations must approve (more than half); one objection rejects the
        change", in the language spoken."""
        needed = self.needed(members)
        if self.approval != "majority" or members > 2:
            text = _(
                "%(needed)s of %(members)s member Nations must approve (%(share)s)",
                needed=needed,
                members=members,
                share=str(_WORDS[self.approval]),
            )
        else:
            text = _(
                "%(needed)s of %(members)s member Nations must approve",
                needed=needed,
                members=members,
            )
        if self.objection_stops:
            text = _("%(rule)s; one objection rejects the change", rule=text)
        return text


def approval_rule() -> ApprovalRule:
    """The rule the portal is configured with (the defaults outside an app)."""
    if not has_app_context():
        return ApprovalRule()
    settings = current_app.config
    return ApprovalRule(
        settings.get("GOVERNANCE_APPROVAL", config.GOVERNANCE_APPROVAL),
        bool(settings.get("GOVERNANCE_OBJECTION_STOPS", config.GOVERNANCE_OBJECTION_STOPS)),
    )
