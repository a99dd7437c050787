"""Portal-wide changes to the rules as proposals to the member Nations: what a change set
may be, who the members are and who answers for each, and recording a proposal.

Here, below the workflow, because `portal policy load` (portal/policy/sync.py) records
itself as a proposal once member Nations exist; the commands that make, answer and
withdraw proposals are portal/workflow/proposals.py. Flush, never commit.
"""

import re
from typing import Any

from sqlmodel import Session, select

from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import Role, RoleMembership, User
from portal.errors import ValidationError
from portal.notify.service import queue
from portal.policy.files import Problem
from portal.policy.models import Proposal, ProposalStatus
from portal.policy.service import authorize
from portal.policy.versions import (
    Rules,
    RulesInvalid,
    apply_changes,
    check_rules,
    is_nations_own,
    number_in_force,
    rules_in_force,
    rules_of,
)
from portal.policy.vocabulary import Action
from portal.registry.models import Nation

CODE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
PARTS = {"lines": ("add", "remove"), "catalogue": ("label", "text"), "clauses": ("title", "text")}
# A clause may say what it says when no Nation asks for it (the output-review clause must).
OPTIONAL = {"clauses": ("text_if_none",)}


def members(session: Session) -> list[Nation]:
    """The member Nations, by name: every Nation admitted (portal/policy/membership.py).
    A Nation waiting for its admission decides on its own data all the same."""
    query = select(Nation).where(Nation.admitted_at.is_not(None))
    return list(session.exec(query.order_by(Nation.name)))


def voters(session: Session, nation: Nation) -> list[User]:
    """Who may answer for ``nation``: the people the policy lets vote_on_rules there."""
    people = session.exec(
        select(User)
        .join(RoleMembership, RoleMembership.user_id == User.id)
        .where(RoleMembership.nation_id == nation.id, RoleMembership.role == Role.REPRESENTATIVE)
        .order_by(User.name)
    )
    return [p for p in people if authorize(session, p, Action.VOTE_ON_RULES, nation=nation).allowed]


def electorate(session: Session) -> list[Nation]:
    """The member Nations that answer a proposal made now: those with a representative
    to answer for them (whether one may answer is the policy's, asked at each answer)."""
    represented = set(
        session.exec(
            select(RoleMembership.nation_id).where(RoleMembership.role == Role.REPRESENTATIVE)
        )
    )
    return [member for member in members(session) if member.id in represented]


def voting_nations(session: Session, proposal: Proposal) -> list[Nation]:
    """The member Nations that answer ``proposal``: its electorate, fixed when it was made."""
    return [member for member in members(session) if member.id in proposal.electorate]


def every_voter(session: Session) -> list[User]:
    """Everyone who may answer for a member Nation: who is told of each proposal."""
    return [person for member in members(session) for person in voters(session, member)]


# The part of a change set that admits Nations as members (portal/policy/membership.py).
ADMIT = "admit"


def candidates(session: Session, proposal: Proposal) -> list[Nation]:
    """The Nations a proposal would admit as members (its change set's ADMIT slugs)."""
    slugs = proposal.changes.get(ADMIT) or []
    if not slugs:
        return []
    return list(session.exec(select(Nation).where(Nation.slug.in_(slugs)).order_by(Nation.name)))


def _shape(changes: Any) -> str | None:
    """What is wrong with the change set's form (see portal/policy/versions.py)."""
    if not isinstance(changes, dict) or set(changes) - set(PARTS):
        return "A change set has lines, catalogue and clauses, and nothing else."
    lines = changes.get("lines", {})
    if not isinstance(lines, dict) or set(lines) - {"add", "remove"}:
        return "Lines to change are {add: [...], remove: [...]}."
    for part in lines.values():
        if not isinstance(part, list) or not all(
            isinstance(line, list) and line and all(isinstance(v, str) for v in line)
            for line in part
        ):
            return "Each policy line is a list of words, such as [p2, *, approve, quorum_met]."
    for part in ("catalogue", "clauses"):
        entries = changes.get(part, {})
        if not isinstance(entries, dict):
            return f"The {part} changes are {{code: entry or null}}."
        for code, entry in entries.items():
            if not CODE.match(code):
                return f"{code!r} is no code: lower-case letters, digits and underscores."
            wanted = set(PARTS[part])
            optional = {"code", *OPTIONAL.get(part, ())}
            if entry is not None and (
                not isinstance(entry, dict)
                or set(entry) - wanted - optional
                or not all(isinstance(entry[key], str) for key in set(entry) & optional - {"code"})
                or not all(isinstance(entry.get(key), str) for key in wanted)
            ):
                return f"{code}: give its {' and its '.join(sorted(wanted))}."
    return None


def _problems_by_part(rules: Rules, problems: list[Problem]) -> dict[str, str]:
    """check_rules' problems, said of the lines themselves, by the part they concern."""
    by_part: dict[str, list[str]] = {}
    for problem in problems:
        part, text = "lines", problem.message
        if problem.where.startswith("condition "):
            part, text = "catalogue", str(problem)
        elif problem.where.startswith("clause "):
            part, text = "clauses", str(problem)
        elif problem.where.startswith("rules:"):
            line = rules.lines[int(problem.where.split(":")[1]) - 1]
            text = f"{', '.join(line)}: {problem.message}"
        by_part.setdefault(part, []).append(text)
    return {part: "; ".join(texts) for part, texts in by_part.items()}


def check_changes(session: Session, changes: Any) -> Rules:
    """The rules ``changes`` would make of those in force; ValidationError (422, by the
    part: lines, catalogue, clauses, or the change set as a whole) when it may not be
    proposed: malformed, touching a Nation's own lines, not fitting the rules in force,
    breaking what `portal policy check` holds (the invariants), or changing nothing."""
    if problem := _shape(changes):
        raise ValidationError({"changes": problem})
    lines = changes.get("lines", {})
    owned = [line for part in lines.values() for line in part if is_nations_own(tuple(line))]
    if owned:
        raise ValidationError(
            {
                "lines": f"{', '.join(owned[0])} is a Nation's own rule: only that Nation "
                "changes it, on its governance page."
            }
        )
    current = rules_in_force(session)
    try:
        new = apply_changes(current, changes)
    except RulesInvalid as invalid:
        raise ValidationError({"lines": "; ".join(invalid.problems)}) from None
    if new == current:
        raise ValidationError({"changes": "The proposal changes nothing in the rules in force."})
    if problems := check_rules(session, new, since=current):
        raise ValidationError(_problems_by_part(new, problems))
    return new


def refuse_if_stale(session: Session, proposal: Proposal) -> None:
    """RulesInvalid when a standard condition or clause the proposal changes was changed
    by another version since it was made: the members answered a change of the text
    they read, not of the text in force now. (Its lines need no such check: a line to
    add or remove either fits the rules in force or is refused by apply_changes.)"""
    base = rules_of(session, proposal.base_version)
    now = rules_in_force(session)
    if base is None or base.number == now.number:
        return
    moved = [
        f"the standard condition {code} changed since it was proposed"
        for code in proposal.changes.get("catalogue", {})
        if base.catalogue.get(code) != now.catalogue.get(code)
    ] + [
        f"the clause {code} changed since it was proposed"
        for code in proposal.changes.get("clauses", {})
        if base.clause(code) != now.clause(code)
    ]
    if moved:
        raise RulesInvalid(moved)


def open_proposals(session: Session) -> list[Proposal]:
    query = select(Proposal).where(Proposal.status == ProposalStatus.OPEN)
    return list(session.exec(query.order_by(Proposal.id)))


def make_proposal(
    session: Session,
    proposer: User | None,
    nation: Nation | None,
    title: str,
    explanation: str,
    changes: dict[str, Any],
) -> Proposal:
    """Record a checked change set as an open proposal, tell every member Nation's
    representatives, and put it on every member Nation's record."""
    proposal = Proposal(
        title=title,
        explanation=explanation,
        proposer_id=proposer.id if proposer else None,
        nation_id=nation.id if nation else None,
        base_version=number_in_force(session) or 0,
        changes=changes,
        electorate=[member.id for member in electorate(session)],
    )
    session.add(proposal)
    session.flush()
    announce(session, EventType.PROPOSAL_MADE, proposer, proposal, nation=nation)
    queue(
        session,
        every_voter(session),
        "proposal_made",
        proposal=proposal,
        proposer=proposer,
        nation=nation,
    )
    return proposal


def announce(
    session: Session, kind: EventType, actor: User | None, proposal: Proposal, **details: Any
) -> None:
    """An event of the proposal, in every member Nation's record (and, for its
    admission, in the record of the Nation it would admit)."""
    named = {
        key: value.slug if isinstance(value, Nation) else value for key, value in details.items()
    }
    record_event(
        session,
        action=kind,
        actor=actor,
        nations=list({n.id: n for n in members(session) + candidates(session, proposal)}.values()),
        details={"proposal": proposal.id, "title": proposal.title, **named},
    )
