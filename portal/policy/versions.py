"""Versions of the governance rules: every policy line, the catalogue of standard
conditions and the agreement's standard clauses, kept whole for each version.

The newest RulesVersion is the one in force; the policy_rule rows the enforcer reads
are its lines. Every change goes through ``install()``: a change set applied to the
rules in force at that moment (under the policy-version row's lock, so two changes
at once never lose one another), checked with `portal policy check`'s own rules
(the sovereignty invariants hold on every path), written as the next version, and
loaded by every worker at its next request (portal/policy/store.py). Decisions and
agreements name the version they were made under. Flush, never commit.

A change set: {"lines": {"add": [[ptype, ...]], "remove": [[ptype, ...]]},
"catalogue": {code: entry or None (removed)}, "clauses": {code: clause or None}}.
"""

import copy
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from portal.agreements.clauses import default_clauses
from portal.audit.events import EventType
from portal.audit.service import record_event
from portal.auth.models import User
from portal.errors import ServiceError
from portal.policy.check import check_lines
from portal.policy.files import PolicyLine, Problem
from portal.policy.models import (
    RULE_FIELDS,
    PolicyRule,
    Proposal,
    RulesOrigin,
    RulesVersion,
    rules_version_in_force,
)
from portal.policy.standard_texts import check_catalogue, check_clauses
from portal.policy.store import bump_version
from portal.policy.vocabulary import WILDCARD
from portal.registry.models import Nation
from portal.reviews.terms import default_catalogue

LineValues = tuple[str, ...]  # (ptype, v0, v1, ...)


@dataclass(frozen=True)
class Rules:
    """The rules of one version (number 0: the rows as loaded before versions were kept)."""

    number: int
    lines: tuple[LineValues, ...]
    catalogue: dict[str, dict[str, str]] = field(default_factory=default_catalogue)
    clauses: list[dict[str, str]] = field(default_factory=default_clauses)

    @classmethod
    def of(cls, version: RulesVersion) -> "Rules":
        return cls(
            number=version.number,
            lines=tuple(tuple(line) for line in version.lines),
            catalogue=copy.deepcopy(version.catalogue),
            clauses=copy.deepcopy(version.clauses),
        )

    def clause(self, code: str) -> dict[str, str] | None:
        return next((clause for clause in self.clauses if clause["code"] == code), None)


class RulesInvalid(ServiceError):
    """The change would break the rules (an invariant, an unknown name): nothing changed."""

    def __init__(self, problems: list[Problem] | list[str]) -> None:
        self.problems = [str(problem) for problem in problems]
        super().__init__("The rules were not changed: " + "; ".join(self.problems))


def _rows(session: Session) -> list[PolicyRule]:
    return list(session.exec(select(PolicyRule).order_by(PolicyRule.id)))


def latest_version(session: Session) -> RulesVersion | None:
    return session.exec(select(RulesVersion).order_by(RulesVersion.number.desc())).first()


def rules_in_force(session: Session) -> Rules:
    if (version := latest_version(session)) is not None:
        return Rules.of(version)
    return Rules(0, tuple((rule.ptype, *rule.values) for rule in _rows(session)))


def rules_of(session: Session, number: int) -> Rules | None:
    version = session.get(RulesVersion, number)
    return None if version is None else Rules.of(version)


def number_in_force(session: Session) -> int | None:
    """The number decisions and agreements record (None before any version was kept)."""
    return rules_version_in_force(session)


def is_nations_own(line: LineValues) -> bool:
    """A Nation's own rule: a line in its domain (a condition it set on its governance
    page, or a grant for it alone). Only the Nation changes those: a portal-wide load or
    proposal leaves them alone."""
    domain_at = {"p": 2, "p2": 1}.get(line[0])
    return domain_at is not None and len(line) > domain_at and line[domain_at] != WILDCARD


def apply_changes(rules: Rules, changes: dict[str, Any]) -> Rules:
    """The rules with ``changes`` applied (a pure function); RulesInvalid when the change
    set does not fit them (a line to remove is not there, one to add already is)."""
    lines = list(rules.lines)
    problems = []
    for line in map(tuple, changes.get("lines", {}).get("remove", [])):
        if line in lines:
            lines.remove(line)
        else:
            problems.append(f"{', '.join(line)} is not in the rules in force")
    for line in map(tuple, changes.get("lines", {}).get("add", [])):
        if line in lines:
            problems.append(f"{', '.join(line)} is in the rules already")
        else:
            lines.append(line)
    catalogue = copy.deepcopy(rules.catalogue)
    for code, entry in changes.get("catalogue", {}).items():
        if entry is None:
            catalogue.pop(code, None)
        else:
            catalogue[code] = dict(entry)
    clauses = copy.deepcopy(rules.clauses)
    for code, clause in changes.get("clauses", {}).items():
        index = next((i for i, c in enumerate(clauses) if c["code"] == code), None)
        if clause is None and index is not None:
            del clauses[index]
        elif clause is not None and index is None:
            clauses.append({**clause, "code": code})
        elif clause is not None:
            clauses[index] = {**clause, "code": code}
    if problems:
        raise RulesInvalid(problems)
    return Rules(rules.number, tuple(lines), catalogue, clauses)


def changes_between(old: Rules, new: Rules) -> dict[str, Any]:
    """The change set that turns ``old`` into ``new`` (empty parts left out)."""
    changes: dict[str, Any] = {}
    add = [list(line) for line in new.lines if line not in old.lines]
    remove = [list(line) for line in old.lines if line not in new.lines]
    if add or remove:
        changes["lines"] = {"add": add, "remove": remove}
    catalogue = {
        code: new.catalogue.get(code)
        for code in {*old.catalogue, *new.catalogue}
        if old.catalogue.get(code) != new.catalogue.get(code)
    }
    if catalogue:
        changes["catalogue"] = dict(sorted(catalogue.items()))
    old_clauses = {c["code"]: c for c in old.clauses}
    new_clauses = {c["code"]: c for c in new.clauses}
    clauses = {
        code: new_clauses.get(code)
        for code in [*old_clauses, *(c for c in new_clauses if c not in old_clauses)]
        if old_clauses.get(code) != new_clauses.get(code)
    }
    if clauses:
        changes["clauses"] = clauses
    return changes


def check_rules(session: Session, rules: Rules, since: Rules | None = None) -> list[Problem]:
    """What `portal policy check` would say of these lines (the invariants included).
    With ``since``, only the problems a change from those rules brings: rules already
    broken (by rows put in some other way) do not stop a change that mends or leaves
    alone what is broken, while any new breach is still refused."""
    problems = _problems(session, rules)
    if since is None:
        return problems
    before = {_key(since, problem) for problem in _problems(session, since)}
    return [problem for problem in problems if _key(rules, problem) not in before]


def _problems(session: Session, rules: Rules) -> list[Problem]:
    known = set(session.exec(select(Nation.slug)))
    lines = [
        PolicyLine(LINES, number, line[0], tuple(line[1:]))
        for number, line in enumerate(rules.lines, start=1)
    ]
    problems = check_lines(lines, known)
    return problems + check_catalogue(rules.catalogue) + check_clauses(rules.clauses)


LINES = "rules"  # where a line's problem is: "rules:<its position>"


def _key(rules: Rules, problem: Problem) -> tuple[object, str]:
    """A problem by what it is said of (the line itself, not its position) and what it says."""
    where, _, position = problem.where.partition(":")
    if where == LINES and position.isdigit():
        return rules.lines[int(position) - 1], problem.message
    return problem.where, problem.message


def _write_rows(session: Session, old: list[PolicyRule], lines: tuple[LineValues, ...]) -> None:
    sources = {(rule.ptype, *rule.values): rule.source for rule in old}
    session.exec(sa.delete(PolicyRule))
    for ptype, *values in lines:
        padded = list(values) + [""] * (len(RULE_FIELDS) - len(values))
        session.add(
            PolicyRule(
                ptype=ptype,
                source=sources.get((ptype, *values), ""),
                **dict(zip(RULE_FIELDS, padded, strict=True)),
            )
        )
    session.flush()


def install(
    session: Session,
    changes: dict[str, Any],
    *,
    origin: RulesOrigin,
    summary: str,
    actor: User | None = None,
    nation: Nation | None = None,
    proposal: Proposal | None = None,
    always: bool = False,
    told: list[Nation] | None = None,
) -> RulesVersion | None:
    """Apply ``changes`` to the rules in force and make the result the next version.
    Returns None, writing nothing, when nothing would change (unless ``always``: the
    first version is recorded even when the rows say it already). The event is in the
    record of ``nation`` and of the Nations ``told`` (a proposal's member Nations)."""
    seen = rules_in_force(session)
    if apply_changes(seen, changes) == seen and not always:
        return None
    bump_version(session)  # the row lock orders concurrent changes: read again after it
    rows = _rows(session)
    current = rules_in_force(session)
    new = apply_changes(current, changes)
    if problems := check_rules(session, new, since=current):
        raise RulesInvalid(problems)
    _write_rows(session, rows, new.lines)
    version = RulesVersion(
        number=(number_in_force(session) or 0) + 1,
        origin=origin,
        summary=summary[:500],
        actor_id=actor.id if actor else None,
        nation_id=nation.id if nation else None,
        proposal_id=proposal.id if proposal else None,
        lines=[list(line) for line in new.lines],
        catalogue=new.catalogue,
        clauses=new.clauses,
    )
    session.add(version)
    session.flush()
    record_event(
        session,
        action=EventType.RULES_CHANGED,
        actor=actor,
        nations=[*([nation] if nation else []), *(told or [])],
        details={
            "version": version.number,
            "origin": origin.value,
            "summary": version.summary,
            "proposal": proposal.id if proposal else None,
        },
    )
    return version


def first_rules_version(lines: list[LineValues]) -> RulesVersion:
    """Version 1 as the tests' databases start: the policies/ lines and the defaults."""
    return RulesVersion(
        number=1,
        origin=RulesOrigin.LOAD,
        summary="Loaded from policies/",
        lines=[list(line) for line in lines],
        catalogue=default_catalogue(),
        clauses=default_clauses(),
    )
