"""`portal policy load`: check policies/ and put its lines into the database."""

from pathlib import Path

from sqlmodel import Session, select

from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.errors import ServiceError
from portal.paths import resource_dir
from portal.policy.check import check_directory
from portal.policy.files import Problem, read_directory
from portal.policy.store import replace_file_rules
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
    """Replace the file-sourced policy rows with the lines of ``directory`` (default:
    the portal's policies/), after checking them, including that every Nation named
    is registered. Bumps the policy version when anything changed.
    Returns how many lines the files hold and whether the database changed."""
    directory = directory or resource_dir("policies")
    known_nations = set(session.exec(select(Nation.slug)))
    problems = check_directory(directory, known_nations)
    if problems:
        raise PolicyInvalid(problems)
    lines, _ = read_directory(directory)
    changed = replace_file_rules(
        session, [(line.source, line.ptype, list(line.values)) for line in lines]
    )
    if changed:  # the governance rules themselves are part of the record
        record_event(
            session,
            action=EventType.POLICY_LOADED,
            actor=None,
            details={"lines": len(lines), "files": sorted({line.source for line in lines})},
        )
    return len(lines), changed
