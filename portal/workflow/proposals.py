"""Portal-wide changes to the rules, governed by the member Nations: one command per
step, one handler, ``govern()``, dispatching through HANDLERS.

- ``Propose`` (propose_rules: an administrator portal-wide, a representative for its own
  Nation): a change set that fits the rules in force and keeps the invariants
  (portal/policy/proposing.py); it waits for the member Nations.
- ``VoteOnProposal`` (vote_on_rules, reserved to the Nation's representatives): each
  member Nation answers once, approve or object. When the approval rule
  (portal/policy/approval.py) is met, the change is installed in the same transaction
  (versions.install: the invariants are checked again); when an objection stops it, or
  approval became impossible, it is rejected. Nothing is applied by time.
- ``WithdrawProposal``: its proposer, while it is open (an operator's load: an
  administrator, as whoever may propose portal-wide).

A Nation's admission as a member is a proposal too (portal/policy/membership.py): opened
when an administrator registers it once members can answer, answered the same way, and
applied by making it a member instead of installing rules.

The member Nations that answer a proposal are fixed when it is made: those with a
representative to answer for them (its electorate), so no later registration changes
the count.

Pages, the API and tests all call ``govern()``. Flush, never commit.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from portal.audit.events import EventType
from portal.auth.models import User
from portal.db import could_be_id, utcnow
from portal.errors import Forbidden, NotFound, Refused, ValidationError
from portal.notify.service import queue
from portal.policy import membership
from portal.policy.approval import Outcome, approval_rule
from portal.policy.models import Proposal, ProposalStatus, ProposalVote, RulesOrigin, Vote
from portal.policy.proposing import (
    announce,
    candidates,
    check_changes,
    electorate,
    every_voter,
    make_proposal,
    members,
    refuse_if_stale,
    voters,
)
from portal.policy.service import require
from portal.policy.versions import RulesInvalid, install
from portal.policy.vocabulary import Action
from portal.registry.models import Nation

MAX_TITLE = 200
MAX_TEXT = 5000


@dataclass(frozen=True)
class Propose:
    title: str = ""
    explanation: str = ""
    changes: dict[str, Any] = field(default_factory=dict)
    nation_slug: str | None = None  # the Nation its representative speaks for; None: portal-wide


@dataclass(frozen=True)
class VoteOnProposal:
    proposal_id: int = 0
    nation_slug: str = ""
    vote: str = ""
    comment: str = ""


@dataclass(frozen=True)
class WithdrawProposal:
    proposal_id: int = 0


GovernanceCommand = Propose | VoteOnProposal | WithdrawProposal


def govern(session: Session, actor: User, command: GovernanceCommand) -> Proposal:
    """Perform ``command`` as ``actor``: the proposal as it now stands."""
    return HANDLERS[type(command)](session, actor, command)


def _nation(session: Session, slug: str | None, *, required: bool) -> Nation | None:
    if not slug:
        if required:
            raise ValidationError({"nation": _("Name the member Nation you answer for.")})
        return None
    nation = session.exec(select(Nation).where(Nation.slug == slug)).first()
    if nation is None:
        raise ValidationError({"nation": _("%(slug)s is no registered Nation.", slug=repr(slug))})
    return nation


def _text(errors: dict[str, str], name: str, value: str, limit: int, *, required: bool) -> str:
    value = (value or "").strip() if isinstance(value, str) else ""
    if required and not value:
        errors[name] = _("Say what the change is, in a few words.")
    elif len(value) > limit:
        errors[name] = _("At most %(limit)s characters.", limit=limit)
    return value


def _refuse_if_not_member(nation: Nation) -> None:
    """Only a member Nation speaks on the portal-wide rules (portal/policy/membership.py)."""
    if nation.admitted_at is None:
        raise Refused(
            _(
                "%(nation)s is not a member Nation yet: the member Nations answer changes to "
                "the portal-wide rules, and decide on its admission.",
                nation=nation.name,
            )
        )


def _propose(session: Session, actor: User, command: Propose) -> Proposal:
    nation = _nation(session, command.nation_slug, required=False)
    require(session, actor, Action.PROPOSE_RULES, nation=nation)
    if nation is not None:
        _refuse_if_not_member(nation)
    if not electorate(session):
        raise Refused(
            _("No member Nation has a representative yet: there is no one to approve a change.")
        )
    errors: dict[str, str] = {}
    title = _text(errors, "title", command.title, MAX_TITLE, required=True)
    explanation = _text(errors, "explanation", command.explanation, MAX_TEXT, required=False)
    if errors:
        raise ValidationError(errors)
    if isinstance(command.changes, dict) and membership.ADMIT in command.changes:
        membership.check_admission(session, command.changes)
    else:
        check_changes(session, command.changes)
    return make_proposal(session, actor, nation, title, explanation, command.changes)


def find(session: Session, proposal_id: int, *, lock: bool = False) -> Proposal:
    """The proposal (locked, so that answers to it are counted one after another)."""
    if not could_be_id(proposal_id):
        raise NotFound(_("no such proposal"))
    query = select(Proposal).where(Proposal.id == proposal_id)
    proposal = session.exec(query.with_for_update() if lock else query).first()
    if proposal is None:
        raise NotFound(_("no such proposal"))
    return proposal


# A closed proposal's state, in a sentence ("This proposal is applied").
STATUS_WORDS = {"applied": _l("applied"), "rejected": _l("rejected"), "withdrawn": _l("withdrawn")}


def _still_open(proposal: Proposal) -> None:
    if proposal.status != ProposalStatus.OPEN:
        words = STATUS_WORDS.get(proposal.status.value, proposal.status.value)
        raise Refused(_("This proposal is %(state)s: it takes no more answers.", state=words))


def answers(session: Session, proposal: Proposal) -> list[ProposalVote]:
    query = select(ProposalVote).where(ProposalVote.proposal_id == proposal.id)
    return list(session.exec(query.order_by(ProposalVote.id)))


def _vote(session: Session, actor: User, command: VoteOnProposal) -> Proposal:
    proposal = find(session, command.proposal_id, lock=True)
    nation = _nation(session, command.nation_slug, required=True)
    require(session, actor, Action.VOTE_ON_RULES, nation=nation)
    _still_open(proposal)
    errors: dict[str, str] = {}
    if command.vote not in {vote.value for vote in Vote}:
        errors["vote"] = _("Choose approve or object.")
    comment = _text(errors, "comment", command.comment, MAX_TEXT, required=False)
    if errors:
        raise ValidationError(errors)
    _refuse_if_not_member(nation)
    if nation.id not in proposal.electorate:
        raise Refused(
            _(
                "%(nation)s had no representative when this change was proposed, so it does "
                "not answer this proposal; it answers those made from now on.",
                nation=nation.name,
            )
        )
    if any(answer.nation_id == nation.id for answer in answers(session, proposal)):
        raise Refused(
            _(
                "%(nation)s has answered this proposal already: each Nation answers once.",
                nation=nation.name,
            )
        )
    vote = Vote(command.vote)
    answer = ProposalVote(
        proposal_id=proposal.id, nation_id=nation.id, voter_id=actor.id, vote=vote, comment=comment
    )
    session.add(answer)
    session.flush()
    announce(session, EventType.PROPOSAL_VOTED, actor, proposal, nation=nation, vote=vote.value)
    _settle(session, proposal)
    return proposal


def _settle(session: Session, proposal: Proposal) -> None:
    """Apply or reject the proposal if its answers now decide it."""
    given = answers(session, proposal)
    approvals = sum(answer.vote == Vote.APPROVE for answer in given)
    outcome = approval_rule().outcome(len(proposal.electorate), approvals, len(given) - approvals)
    if outcome is Outcome.WAITING:
        return
    proposer = session.get(User, proposal.proposer_id) if proposal.proposer_id else None
    if outcome is Outcome.APPROVED and membership.is_admission(proposal):
        membership.admit(session, proposal)
        proposal.status = ProposalStatus.APPLIED
    elif outcome is Outcome.APPROVED:
        try:
            refuse_if_stale(session, proposal)
            version = install(
                session,
                proposal.changes,
                origin=RulesOrigin.PROPOSAL,
                summary=proposal.title,
                actor=proposer,
                nation=session.get(Nation, proposal.nation_id) if proposal.nation_id else None,
                proposal=proposal,
                told=members(session),
            )
        except RulesInvalid as invalid:
            raise Refused(_no_longer_fits(invalid.problems)) from None
        if version is None:
            raise Refused(_no_longer_fits([_("the rules in force say it already")]))
        proposal.status, proposal.applied_version = ProposalStatus.APPLIED, version.number
    else:
        proposal.status = ProposalStatus.REJECTED
        announce(session, EventType.PROPOSAL_REJECTED, None, proposal)
    proposal.closed_at = utcnow()
    session.add(proposal)
    session.flush()
    _tell_outcome(session, proposal, proposer)


def _no_longer_fits(problems: list[str]) -> str:
    return _(
        "Another change to the rules came first, so this proposal no longer fits the rules "
        "in force (%(problems)s). Nothing was recorded: its proposer should "
        "withdraw it and propose the change again.",
        problems="; ".join(problems),
    )


def _tell_outcome(session: Session, proposal: Proposal, proposer: User | None) -> None:
    # The members, and a Nation whose admission was refused (one admitted is a member now).
    everyone = every_voter(session) + [
        person
        for nation in candidates(session, proposal)
        if nation.admitted_at is None
        for person in voters(session, nation)
    ]
    recipients = [proposer, *everyone] if proposer else everyone
    queue(session, recipients, "proposal_closed", proposal=proposal)


def _withdraw(session: Session, actor: User, command: WithdrawProposal) -> Proposal:
    proposal = find(session, command.proposal_id, lock=True)
    if proposal.proposer_id is None:  # the operator's (a load): whoever proposes portal-wide
        require(session, actor, Action.PROPOSE_RULES)
    elif proposal.proposer_id != actor.id:
        raise Forbidden(_("Only the person who proposed this change may withdraw it."))
    _still_open(proposal)
    proposal.status, proposal.closed_at = ProposalStatus.WITHDRAWN, utcnow()
    session.add(proposal)
    session.flush()
    announce(session, EventType.PROPOSAL_WITHDRAWN, actor, proposal)
    return proposal


HANDLERS: dict[type, Callable[[Session, User, Any], Proposal]] = {
    Propose: _propose,
    VoteOnProposal: _vote,
    WithdrawProposal: _withdraw,
}
