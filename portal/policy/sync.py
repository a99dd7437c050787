"""`portal policy load`: check policies/ and put its lines into the database."""

from dataclasses import replace
from pathlib import Path

from sqlmodel import Session, select

from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.errors import ServiceError
from portal.paths import resource_dir
from portal.policy.check import check_directory
from portal.policy.files import Problem, read_directory
from portal.policy.models import RulesOrigin
from portal.policy.versions import (
    changes_between,
    install,
    is_nations_own,
    latest_version,
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


def load_files(session: Session, directory: Path | None = None) -> tuple[int, bool]:
    """Make the lines of ``directory`` (default: the portal's policies/) the portal-wide
    lines in force, after checking them, including that every Nation named is
    registered. A Nation's own rules (its p2 lines) are its own: a load keeps them.
    Records a new rules version when anything changed, and the first version always.
    Returns how many lines the files hold and whether the rules changed."""
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
    version = install(
        session,
        changes_between(current, target),
        origin=RulesOrigin.LOAD,
        summary=f"Loaded from {', '.join(sorted({line.source for line in lines}))}",
        always=latest_version(session) is None,
    )
    if version is not None:  # the governance rules themselves are part of the record
        record_event(
            session,
            action=EventType.POLICY_LOADED,
            actor=None,
            details={"lines": len(lines), "files": sorted({line.source for line in lines})},
        )
    return len(lines), version is not None
