"""The API's portal-wide rule changes: list and read proposals, propose one, answer for
a member Nation, withdraw. The bodies and answers are here, beside their handlers; the
rules are the workflow's (portal/workflow/proposals.py)."""

from datetime import datetime

from pydantic import Field

from portal.api.bodies import Body, Text
from portal.api.schemas import Out
from portal.auth.models import User
from portal.db import get_session
from portal.errors import NotFound
from portal.policy.models import ProposalStatus
from portal.transparency.proposals import ProposalView, listing, view
from portal.transparency.rulebook import require_rules_reader
from portal.workflow.proposals import Propose, VoteOnProposal, WithdrawProposal, find, govern

# --- bodies ---------------------------------------------------------------------------


class LinesIn(Body):
    add: list[list[Text]] = Field(
        default_factory=list, examples=[[["p2", "*", "approve", "ethics_approval_given"]]]
    )
    remove: list[list[Text]] = Field(default_factory=list)


class ConditionIn(Body):
    label: Text
    text: Text


class ClauseIn(Body):
    title: Text
    text: Text
    text_if_none: Text | None = Field(
        default=None,
        description="What the clause says when no Nation asks for it (the output-review "
        "clause needs it).",
    )


class ChangesIn(Body):
    lines: LinesIn | None = None
    catalogue: dict[str, ConditionIn | None] = Field(
        default_factory=dict, description="Standard conditions by code; null removes one."
    )
    clauses: dict[str, ClauseIn | None] = Field(
        default_factory=dict, description="The agreement's standard clauses by code."
    )
    admit: list[Text] = Field(
        default_factory=list,
        description="Registered Nations to admit as members (slugs); an admission changes "
        "nothing else.",
    )


class ProposalIn(Body):
    title: Text
    explanation: Text = ""
    nation: Text | None = Field(
        default=None, description="The Nation a representative proposes for; omit portal-wide."
    )
    changes: ChangesIn


class VoteIn(Body):
    nation: Text = Field(description="The member Nation you answer for.")
    vote: Text = Field(description="approve or object.", examples=["approve"])
    comment: Text = ""


# --- answers ----------------------------------------------------------------------------


class LineChangeOut(Out):
    change: str = Field(description="added or removed")
    line: list[str]
    words: str


class AnswerOut(Out):
    nation: str
    vote: str | None = Field(description="approve, object, or null: not answered yet.")
    comment: str
    by: str | None
    at: datetime | None


class ProposalOut(Out):
    id: int
    title: str
    explanation: str
    status: ProposalStatus
    proposer: str
    nation: str | None
    base_version: int
    applied_version: int | None
    changes: dict
    lines: list[LineChangeOut]
    answers: list[AnswerOut]
    rule: str = Field(description="What the approval rule needs, in words.")
    approvals: int
    objections: int
    may_vote_for: list[str] = Field(description="The Nations you may still answer for.")
    may_withdraw: bool
    created_at: datetime
    closed_at: datetime | None


class ProposalList(Out):
    items: list[ProposalOut]


def _out(shown: ProposalView) -> ProposalOut:
    p = shown.proposal
    return ProposalOut(
        id=p.id,
        title=p.title,
        explanation=p.explanation,
        status=p.status,
        proposer=shown.proposer,
        nation=shown.for_nation.slug if shown.for_nation else None,
        base_version=p.base_version,
        applied_version=p.applied_version,
        changes=p.changes,
        lines=[
            LineChangeOut(
                change="added" if c.sign == "+" else "removed", line=c.line, words=c.words
            )
            for c in shown.lines
        ],
        answers=[
            AnswerOut(
                nation=a.nation.slug,
                vote=a.vote.value if a.vote else None,
                comment=a.comment,
                by=a.voter or None,
                at=a.at,
            )
            for a in shown.answers
        ],
        rule=shown.rule,
        approvals=shown.approvals,
        objections=shown.objections,
        may_vote_for=[n.slug for n in shown.may_vote_for],
        may_withdraw=shown.may_withdraw,
        created_at=p.created_at,
        closed_at=p.closed_at,
    )


def _id(proposal_id: str) -> int:
    if not (proposal_id.isascii() and proposal_id.isdigit()) or len(proposal_id) > 12:
        raise NotFound("no such proposal")
    return int(proposal_id)


def _answer(user: User, proposal) -> ProposalOut:
    return _out(view(get_session(), user, proposal))


def list_proposals(user: User) -> ProposalList:
    session = get_session()
    require_rules_reader(session, user)
    return ProposalList(items=[_out(view(session, user, p)) for p in listing(session)])


def get_proposal(user: User, proposal_id: str) -> ProposalOut:
    require_rules_reader(get_session(), user)
    return _answer(user, find(get_session(), _id(proposal_id)))


def create_proposal(user: User, body: ProposalIn):
    changes = body.changes.model_dump(exclude_unset=True)
    command = Propose(body.title, body.explanation, changes, body.nation)
    proposal = govern(get_session(), user, command)
    return _answer(user, proposal), {"Location": f"/api/v1/rules/proposals/{proposal.id}"}


def vote_on_proposal(user: User, proposal_id: str, body: VoteIn) -> ProposalOut:
    command = VoteOnProposal(_id(proposal_id), body.nation, body.vote, body.comment)
    return _answer(user, govern(get_session(), user, command))


def withdraw_proposal(user: User, proposal_id: str) -> ProposalOut:
    return _answer(user, govern(get_session(), user, WithdrawProposal(_id(proposal_id))))
