"""One frozen command per workflow action. Pages, the API, the CLI, jobs and the tests
build these and hand them to ``perform()``; nothing else changes a request's state.

``name`` is the action's name in the API (``POST .../actions/{name}``) and in
``allowed_actions``. A Nation is named by its slug; ``perform`` resolves it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from portal.agreements.service import DraftedEdition, SignedDocument
    from portal.lifecycle.attestations import PreparedAttestation


@dataclass(frozen=True)
class Command:
    name: ClassVar[str]
    # Whether a person may be offered it (available()); system commands are the jobs'.
    system: ClassVar[bool] = False


@dataclass(frozen=True)
class Edit(Command):
    """Change the draft's fields (its researcher; draft or changes requested)."""

    name = "edit"
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Submit(Command):
    """Submit the current fields as a new revision, for screening."""

    name = "submit"


@dataclass(frozen=True)
class Withdraw(Command):
    name = "withdraw"
    reason: str = ""


@dataclass(frozen=True)
class Screen(Command):
    """A coordinator's screening: accept for the Nations' review, or return it."""

    name = "screen"
    outcome: str = ""  # accept | return
    comment: str = ""
    reason: str | None = None  # when returned: clarification | outside_mandate
    # The revision the coordinator read (the page sends it); None: whichever is current.
    revision: int | None = None


@dataclass(frozen=True)
class Review(Command):
    """A designated steward's review of the current revision, for their Nation."""

    name = "review"
    nation: str | None = None
    recommendation: str | None = None  # approve | refuse | changes
    comment: str = ""
    criteria: dict[str, Any] = field(default_factory=dict)
    conflict_of_interest: bool = False
    # With "changes": also write the comment to the researcher in the Nation's thread.
    tell_researcher: bool = False
    # The revision the steward read (the page sends it); None: whichever is current.
    revision: int | None = None


@dataclass(frozen=True)
class Decide(Command):
    """A representative's decision for their Nation: approve with conditions, or refuse."""

    name = "decide"
    nation: str | None = None
    outcome: str = ""  # approve | refuse
    reason: str = ""
    conditions: tuple[str, ...] = ()
    # When each condition falls due (portal/reviews/due.py), keyed by the condition as
    # given; those left out take their standard condition's default, else "at_end".
    dues: dict[str, str] = field(default_factory=dict)
    # The revision the representative read (the page sends it); None: whichever is current.
    revision: int | None = None
    # The agreement the last approval issues, rendered before the write transaction
    # (perform_ahead), never sent by anyone: the API and the pages build it without.
    drafted: "DraftedEdition | None" = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Sign(Command):
    """Sign the agreement as a party, re-entering the password. ``nation`` names the
    Nation signed for by someone who represents several."""

    name = "sign"
    password: str = ""
    nation: str | None = None
    # The signature computed before the write transaction (perform_ahead), never sent
    # by anyone: the API and the pages build the command without it.
    signed: "SignedDocument | None" = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Revoke(Command):
    name = "revoke"
    nation: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Expire(Command):
    """End access at the end of the agreement's term (the daily job: nobody's action)."""

    name = "expire"
    system = True
    today: date = field(default_factory=date.today)


@dataclass(frozen=True)
class Message(Command):
    """A message in one of the request's threads: ``channel`` coordinators (the
    researcher with the coordinators), nation (the researcher with ``nation``) or
    internal (``nation``'s own discussion). It never changes the request's state."""

    name = "message"
    channel: str = "coordinators"
    nation: str | None = None
    body: str = ""


@dataclass(frozen=True)
class ReportObligation(Command):
    """The researcher's report on one obligation of their active request, with an
    optional file (``content``: its bytes, typed from them, as an output's)."""

    name = "report_obligation"
    obligation: int | None = None
    text: str = ""
    filename: str = ""
    content: bytes = b""


@dataclass(frozen=True)
class AssessObligation(Command):
    """A Nation's assessment of one obligation owed to it: met, not_met or waived (its
    representative only). ``tell_researcher`` shows the comment to the researcher."""

    name = "assess_obligation"
    obligation: int | None = None
    outcome: str = ""  # met | not_met | waived
    comment: str = ""
    tell_researcher: bool = False
    # When the report read was sent (the page sends it); None: whichever is the latest.
    reported_at: datetime | None = None


@dataclass(frozen=True)
class Close(Command):
    """The researcher ends their access early; a destruction attestation is then due."""

    name = "close"
    reason: str = ""


@dataclass(frozen=True)
class AttestDestruction(Command):
    """The researcher states what was destroyed or returned, how, when (``done_on``,
    YYYY-MM-DD) and by whom, and signs it, re-entering the password."""

    name = "attest_destruction"
    what: str = ""
    method: str = ""
    done_on: str = ""
    done_by: str = ""
    password: str = ""
    # Printed and signed before the write transaction (perform_ahead), never sent by
    # anyone: the API and the pages build the command without it.
    prepared: "PreparedAttestation | None" = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class AcknowledgeDestruction(Command):
    """A Nation's answer to the latest attestation: acknowledged, or more_needed (with
    what more it needs, which only the researcher and the Nation's people read)."""

    name = "acknowledge_destruction"
    nation: str | None = None
    outcome: str = ""  # acknowledged | more_needed
    comment: str = ""


@dataclass(frozen=True)
class SubmitOutput(Command):
    """Submit an output for review before publication (its researcher; active request).
    ``content`` is the file's bytes; its type is read from them, not from ``filename``."""

    name = "submit_output"
    title: str = ""
    venue: str = ""  # where it will be published
    filename: str = ""
    content: bytes = b""


@dataclass(frozen=True)
class ReviewOutput(Command):
    """A designated steward's review of an output, for their Nation."""

    name = "review_output"
    output: int | None = None
    nation: str | None = None
    recommendation: str | None = None  # approve | refuse
    comment: str = ""
    conflict_of_interest: bool = False


@dataclass(frozen=True)
class DecideOutput(Command):
    """A representative's decision on publishing an output, for their Nation."""

    name = "decide_output"
    output: int | None = None
    nation: str | None = None
    outcome: str = ""  # approve | refuse
    reason: str = ""


@dataclass(frozen=True)
class Renew(Command):
    """Ask to renew an active request (its researcher): opens a renewal, edited then
    submitted, screened, reviewed and decided afresh; its edition runs a fresh term."""

    name = "renew"
    reason: str = ""


@dataclass(frozen=True)
class Amend(Command):
    """Ask to amend an active request (its researcher): the team, methods, datasets...
    like a renewal, but its edition keeps the term end of the one in force."""

    name = "amend"
    reason: str = ""
