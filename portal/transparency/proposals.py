"""What people read of a proposed change to the portal-wide rules: the change in words,
who proposed it, each member Nation's answer and which have not answered, what the
approval rule needs, and what the reader may do (answer for a Nation, withdraw).
The pages and the API both read it from here."""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlmodel import Session, select

from portal.auth.models import User
from portal.policy.approval import approval_rule
from portal.policy.models import Proposal, ProposalStatus, Vote
from portal.policy.proposing import candidates, voting_nations
from portal.policy.service import authorize
from portal.policy.versions import Rules, rules_of
from portal.policy.vocabulary import Action
from portal.registry.models import Nation
from portal.transparency.rulewords import explain_line
from portal.workflow.proposals import answers


@dataclass(frozen=True)
class LineChange:
    sign: str  # "+" added, "-" removed
    line: list[str]
    words: str


@dataclass(frozen=True)
class EntryChange:
    part: str  # "condition" or "clause"
    code: str
    old: dict | None
    new: dict | None


@dataclass(frozen=True)
class Answer:
    nation: Nation
    vote: Vote | None  # None: not answered yet
    comment: str = ""
    voter: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class ProposalView:
    proposal: Proposal
    proposer: str  # a name, or "The portal's operator"
    for_nation: Nation | None
    lines: list[LineChange]
    entries: list[EntryChange]
    answers: list[Answer]  # one per member Nation, the answered first
    rule: str  # "2 of 3 member Nations must approve; ..."
    approvals: int
    objections: int
    may_vote_for: list[Nation]  # the reader's Nations that may still answer
    may_withdraw: bool
    admits: list[Nation]  # the Nations it would admit as members (an admission)

    @property
    def waiting(self) -> list[Nation]:
        return [answer.nation for answer in self.answers if answer.vote is None]


def _entries(proposal: Proposal, base: Rules | None) -> list[EntryChange]:
    found = []
    for part, key in (("condition", "catalogue"), ("clause", "clauses")):
        for code, new in proposal.changes.get(key, {}).items():
            if base is None:
                old = None
            elif part == "condition":
                old = base.catalogue.get(code)
            else:
                old = base.clause(code)
            found.append(EntryChange(part, code, old, new))
    return found


def view(session: Session, reader: User, proposal: Proposal) -> ProposalView:
    nations = voting_nations(session, proposal)
    names = {nation.slug: nation.name for nation in nations}
    given = {answer.nation_id: answer for answer in answers(session, proposal)}
    listed = [n for n in nations if n.id in given] + [n for n in nations if n.id not in given]
    shown = []
    for nation in listed:
        answer = given.get(nation.id)
        if answer is None:
            shown.append(Answer(nation, None))
        else:
            voter = session.get(User, answer.voter_id)
            shown.append(Answer(nation, answer.vote, answer.comment, voter.name, answer.created_at))
    lines = proposal.changes.get("lines", {})
    changed = [
        LineChange(sign, line, explain_line(line, names))
        for sign, part in (("+", "add"), ("-", "remove"))
        for line in lines.get(part, [])
    ]
    is_open = proposal.status == ProposalStatus.OPEN
    proposer = session.get(User, proposal.proposer_id) if proposal.proposer_id else None
    approvals = sum(a.vote == Vote.APPROVE for a in shown)
    return ProposalView(
        proposal=proposal,
        proposer=proposer.name if proposer else _("The portal's operator"),
        for_nation=session.get(Nation, proposal.nation_id) if proposal.nation_id else None,
        lines=changed,
        entries=_entries(proposal, rules_of(session, proposal.base_version)),
        answers=shown,
        rule=approval_rule().words(len(nations)),
        approvals=approvals,
        objections=sum(a.vote == Vote.OBJECT for a in shown),
        may_vote_for=[
            n
            for n in nations
            if is_open
            and n.id not in given
            and authorize(session, reader, Action.VOTE_ON_RULES, nation=n).allowed
        ],
        may_withdraw=is_open
        and (
            reader.id == proposal.proposer_id
            if proposer
            else authorize(session, reader, Action.PROPOSE_RULES).allowed
        ),
        admits=candidates(session, proposal),
    )


def listing(session: Session) -> list[Proposal]:
    """Every proposal, open ones first, newest first within each."""
    found = list(session.exec(select(Proposal).order_by(Proposal.id.desc())))
    return sorted(found, key=lambda p: p.status != ProposalStatus.OPEN)
