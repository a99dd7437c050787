"""`portal policy load`: check policies/ and put its lines into the database, or, once
member Nations exist, put the change to them as the operator's proposal."""

from dataclasses import dataclass, replace
from pathlib import Path

from sqlmodel import Session, select

from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.db import utcnow
from portal.errors import ServiceError
from portal.paths import resource_dir
from portal.policy.check import check_directory
from portal.policy.files import Problem, read_directory
from portal.policy.models import Proposal, ProposalStatus, RulesOrigin
from portal.policy.proposing import check_changes, electorate, make_proposal, open_proposals
from portal.policy.versions import (
    changes_between,
    install,
    is_nations_own,
    latest_version,
    number_in_force,
    rules_in_force,
)
from portal.registry.models import Nation


class PolicyInvalid(ServiceError):
    """The policy files have problems; nothing was loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        listed = "; ".join(str(problem) for problem in problems)
        super().__init__(
            f"policy not loaded, {len(problems)} problem(s) (see `portal policy check`): {listed}"
        )


@dataclass(frozen=True)
class Loaded:
    lines: int  # how many lines the files hold
    changed: bool  # the rules in force changed (a new version)
    proposal: Proposal | None = None  # the change awaits the member Nations instead
    new_proposal: bool = False  # ... proposed by this load (not an identical open one)


def load_files(session: Session, directory: Path | None = None) -> Loaded:
    """Make the lines of ``directory`` (default: the portal's policies/) the portal-wide
    lines in force, after checking them, including that every Nation named is
    registered. A Nation's own rules (its p2 lines) are its own: a load keeps them.
    Records a new rules version when anything changed, and the first version always.

    Once member Nations exist the rules are theirs: the change is recorded as the
    operator's proposal (no proposer) for them to approve, unless an identical one is
    open already; nothing is installed."""
    directory = directory or resource_dir("policies")
    known_nations = set(session.exec(select(Nation.slug)))
    problems = check_directory(directory, known_nations)
    if problems:
        raise PolicyInvalid(problems)
    lines, _ = read_directory(directory)
    current = rules_in_force(session)
    from_files = [(line.ptype, *line.values) for line in lines]
    nations_own = [
        line for line in current.lines if is_nations_own(line) and line not in from_files
    ]
    target = replace(current, lines=tuple(from_files + nations_own))
    changes = changes_between(current, target)
    sources = ", ".join(sorted({line.source for line in lines}))
    if changes and electorate(session):
        return _propose(session, directory, len(lines), changes, sources)
    first = latest_version(session) is None
    if not changes and not first:
        return Loaded(len(lines), False)
    # No member Nation can answer yet: the operator's proposal, approved by the operator.
    approved = Proposal(
        title=f"Load policies/ ({sources})",
        explanation="Approved by the operator: no member Nation had a representative yet.",
        status=ProposalStatus.APPLIED,
        base_version=number_in_force(session) or 0,
        changes=changes,
        closed_at=utcnow(),
    )
    session.add(approved)
    session.flush()
    version = install(
        session,
        changes,
        origin=RulesOrigin.LOAD,
        summary=f"Loaded from {sources}",
        proposal=approved,
        always=first,
    )
    approved.applied_version = version.number if version else None
    session.add(approved)
    if version is not None:  # the governance rules themselves are part of the record
        record_event(
            session,
            action=EventType.POLICY_LOADED,
            actor=None,
            details={"lines": len(lines), "files": sorted({line.source for line in lines})},
        )
    return Loaded(len(lines), version is not None)


def _propose(session: Session, directory: Path, count: int, changes: dict, sources: str) -> Loaded:
    for proposal in open_proposals(session):
        if proposal.proposer_id is None and proposal.changes == changes:
            return Loaded(count, False, proposal)
    check_changes(session, changes)
    title = f"Load policies/ ({sources})"
    explanation = f"The operator loaded the policy files of {directory}."
    return Loaded(
        count, False, make_proposal(session, None, None, title, explanation, changes), True
    )
