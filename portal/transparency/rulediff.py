"""A change to the governance rules in words: each line added or removed as a sentence,
each standard condition and agreement clause from its old text to its new one.

The history and version pages (portal/rules/routes.py), the API and a proposal's page
all read a change set (portal/policy/versions.py's format) through ``describe_changes``,
so a change reads the same wherever it is shown. It knows nothing of proposals.
"""

from dataclasses import dataclass
from typing import Any

from portal.policy.versions import Rules
from portal.transparency.rulewords import explain_line

LINE, CONDITION, CLAUSE = "line", "condition", "clause"
ADDED, REMOVED, CHANGED = "added", "removed", "changed"
SET = "set"  # a condition or clause whose text before is not known here


@dataclass(frozen=True)
class ChangeRow:
    part: str  # LINE, CONDITION (of the catalogue) or CLAUSE (of the agreement)
    change: str  # ADDED, REMOVED, CHANGED or SET
    what: str  # a line's sentence; a condition's label; a clause's title
    old: str | None = None  # a condition's or clause's text before
    new: str | None = None  # and after

    @property
    def words(self) -> str:
        """The row as one sentence (the command line, plain-text mail)."""
        if self.part == LINE:
            return f"{self.change.capitalize()}: {self.what}"
        kind = "Standard condition" if self.part == CONDITION else "Agreement clause"
        if self.change == ADDED:
            return f"{kind} added: {self.what}: {self.new}"
        if self.change == REMOVED:
            return f"{kind} removed: {self.what}: {self.old}"
        if self.change == SET:
            return f"{kind} {self.what} now reads: {self.new}"
        return f"{kind} {self.what} changed from: {self.old} to: {self.new}"


def _row(
    part: str, old: dict[str, str] | None, new: dict[str, str] | None, name: str, known: bool
) -> ChangeRow:
    """A condition's (``name``: label) or clause's (title) change; ``known``: whether the
    rules before are known (else ``old`` is None and a new text reads SET)."""
    what = (new or old or {}).get(name, "")
    if new is None:
        return ChangeRow(part, REMOVED, what, old=old.get("text") if old else None)
    if not known:
        return ChangeRow(part, SET, what, new=new.get("text"))
    if old is None:
        return ChangeRow(part, ADDED, what, new=new.get("text"))
    if old.get(name) != new.get(name):
        what = f"{old.get(name)} (now {new.get(name)})"
    return ChangeRow(part, CHANGED, what, old=old.get("text"), new=new.get("text"))


def describe_changes(
    changes: dict[str, Any], nation_names: dict[str, str], before: Rules | None = None
) -> list[ChangeRow]:
    """The rows of a change set: lines removed, then added; then the catalogue's
    conditions; then the agreement's clauses. ``before``, the rules the change applies
    to, gives each condition's and clause's old text (without it they read SET)."""
    lines = changes.get("lines", {})
    rows = [
        ChangeRow(LINE, change, explain_line(line, nation_names))
        for change, key in ((REMOVED, "remove"), (ADDED, "add"))
        for line in lines.get(key, [])
    ]
    known = before is not None
    for code, entry in changes.get("catalogue", {}).items():
        old = before.catalogue.get(code) if before else None
        rows.append(_row(CONDITION, old, entry, "label", known))
    for code, clause in changes.get("clauses", {}).items():
        old = before.clause(code) if before else None
        rows.append(_row(CLAUSE, old, clause, "title", known))
    return rows
