"""The one command surface: a command per action, one transition table, perform() and
available(). Pages, the API, the CLI, jobs and the tests all go through here."""

from portal.workflow.commands import (
    Amend,
    AssessObligation,
    Command,
    Decide,
    Edit,
    Expire,
    Message,
    Renew,
    ReportObligation,
    Review,
    Revoke,
    Screen,
    Sign,
    Submit,
    Withdraw,
)
from portal.workflow.drafting import RETURN_REASONS, SCREEN_OUTCOMES, create_draft
from portal.workflow.offers import Option, available, check, may, who_may
from portal.workflow.perform import perform, perform_ahead, works_ahead

__all__ = [
    "RETURN_REASONS",
    "SCREEN_OUTCOMES",
    "Amend",
    "AssessObligation",
    "Command",
    "Decide",
    "Edit",
    "Expire",
    "Message",
    "Option",
    "Renew",
    "ReportObligation",
    "Review",
    "Revoke",
    "Screen",
    "Sign",
    "Submit",
    "Withdraw",
    "available",
    "check",
    "create_draft",
    "may",
    "perform",
    "perform_ahead",
    "who_may",
    "works_ahead",
]
