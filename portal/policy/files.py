"""Reading policies/: the Casbin model and the policy lines of every *.csv file."""

from dataclasses import dataclass
from pathlib import Path

MODEL_FILE = "model.conf"
# p2, domain, action, condition, parameters ("key=value;key=value", may be left out)
P2_WITH_PARAMS = 4


@dataclass(frozen=True)
class Problem:
    """Something wrong in the policy files, and where."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class PolicyLine:
    source: str  # the file's name
    lineno: int
    ptype: str
    values: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"{self.source}:{self.lineno}"

    @property
    def text(self) -> str:
        return ", ".join((self.ptype, *self.values))


def policy_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.csv"))


def read_file(path: Path) -> tuple[list[PolicyLine], list[Problem]]:
    """The lines of one policy file (Casbin's CSV: ``ptype, v0, v1, ...``; ``#`` comments).
    A p2 line's parameters hold no comma (``min_words=50;...``), so they are one value."""
    lines: list[PolicyLine] = []
    problems: list[Problem] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return [], [Problem(path.name, f"cannot be read: {error}")]
    for lineno, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        ptype, *values = [token.strip() for token in stripped.split(",")]
        if ptype == "p2" and len(values) == P2_WITH_PARAMS and not values[-1]:
            values.pop()  # "p2, *, approve, quorum_met," : no parameters, said so
        line = PolicyLine(path.name, lineno, ptype, tuple(values))
        if not ptype or any(not value for value in values):
            problems.append(Problem(line.where, f"malformed line {stripped!r}: a field is empty"))
            continue
        lines.append(line)
    return lines, problems


def read_directory(directory: Path) -> tuple[list[PolicyLine], list[Problem]]:
    """Every line of every policy file in ``directory``, in file-name order."""
    lines: list[PolicyLine] = []
    problems: list[Problem] = []
    files = policy_files(directory)
    if not files:
        problems.append(Problem(str(directory), "no policy files (*.csv) found"))
    for path in files:
        file_lines, file_problems = read_file(path)
        lines += file_lines
        problems += file_problems
    return lines, problems
