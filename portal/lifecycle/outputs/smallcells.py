"""Small cells in a CSV table of counts, and the totals that would give them away.

A count above zero but below a Nation's threshold identifies too few people to publish.
Suppressing it is not enough when the table also prints a total: if the cell is the only
one suppressed in its row (or column) and that row (or column) has a total, the total
minus the other cells recovers it (complementary disclosure). These are pure functions
of the table's text, so the researcher can check a file before submitting it and the
Nation's reviewers read the same findings.
"""

import csv
import io
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field

# How many flagged cells (and recoverable ones) a finding lists; it counts them all.
LISTED = 200
TOTAL_LABEL = re.compile(r"\b(total|sum|all)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Cell:
    row: int  # 0-based among the data rows (the header excluded)
    column: int  # 0-based among all columns
    row_label: str
    column_label: str
    value: float


@dataclass(frozen=True)
class Recovery:
    """A flagged cell that a total gives away: ``via`` is "row" or "column"."""

    cell: Cell
    via: str
    label: str  # the row's or the column's label


@dataclass(frozen=True)
class Findings:
    threshold: int
    flagged: list[Cell] = field(default_factory=list)  # the first LISTED of them
    total_rows: list[str] = field(default_factory=list)
    total_columns: list[str] = field(default_factory=list)
    recoverable: list[Recovery] = field(default_factory=list)  # the first LISTED
    flagged_count: int = 0
    recoverable_count: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _number(text: str) -> float | None:
    try:
        value = float(text)  # the common case, quickly; it ignores surrounding blanks
    except ValueError:
        text = text.replace(",", "").replace(" ", "").strip()  # "1,204" is a count too
        try:
            value = float(text) if text else None
        except ValueError:
            return None
    return value if value is not None and math.isfinite(value) else None


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@dataclass
class _Table:
    header: list[str]
    labels: list[str]
    values: list[list[float | None]]  # rows x columns; the label column is None
    numeric: list[int]  # the columns holding counts

    def column(self, index: int, rows) -> list[float | None]:
        return [self.values[r][index] for r in rows]


def _table(rows: list[list[str]]) -> _Table:
    header, body = rows[0], [r for r in rows[1:] if any(c.strip() for c in r)]
    width = len(header)
    values = [[_number(c) for c in r[:width]] + [None] * (width - len(r)) for r in body]
    numeric = [
        c for c in range(width) if any(row[c] is not None for row in values)
        and all(row[c] is not None or not body[i][c].strip() for i, row in enumerate(values))
    ]  # fmt: skip
    label_column = next((c for c in range(width) if c not in numeric), None)
    labels = [
        r[label_column].strip() if label_column is not None else f"row {i + 1}"
        for i, r in enumerate(body)
    ]
    return _Table([h.strip() or f"column {i + 1}" for i, h in enumerate(header)], labels,
                  values, numeric)  # fmt: skip


def _is_sum(value: float | None, total: float, present: int) -> bool:
    """Whether ``value`` is the sum of the others in a line whose values sum to ``total``
    (``present`` of them, this one included): then ``total`` is twice ``value``."""
    return (
        value is not None and present >= 3 and abs(2 * value - total) <= 1e-9 * max(1, abs(total))
    )


def _line_totals(lines: list[list[float | None]], labelled: set[int]) -> set[int]:
    """Which of ``lines`` (each a list of the same positions) are totals: those labelled
    so, and those whose every value is the sum of the others' (the labelled ones aside).
    One pass per total found: sums are kept, not recomputed for each line."""
    found = set(labelled)
    width = len(lines[0]) if lines else 0
    while True:
        positions = list(
            zip(*(line for i, line in enumerate(lines) if i not in found), strict=True)
        )
        sums = [math.fsum(filter(None, values)) for values in positions] or [0.0] * width
        present = [len(values) - values.count(None) for values in positions] or [0] * width
        new = next(
            (
                i
                for i, line in enumerate(lines)
                if i not in found
                and width
                and all(_is_sum(line[p], sums[p], present[p]) for p in range(width))
            ),
            None,
        )
        if new is None:
            return found
        found.add(new)


def _total_rows(table: _Table) -> set[int]:
    lines = [[row[c] for c in table.numeric] for row in table.values]
    labelled = {r for r, label in enumerate(table.labels) if TOTAL_LABEL.search(label)}
    return _line_totals(lines, labelled) if table.numeric else labelled


def _total_columns(table: _Table) -> set[int]:
    lines = [[row[c] for row in table.values] for c in table.numeric]
    labelled = {i for i, c in enumerate(table.numeric) if TOTAL_LABEL.search(table.header[c])}
    found = _line_totals(lines, labelled) if table.values else labelled
    return {table.numeric[i] for i in found}


def find(text: str, threshold: int) -> Findings:
    """The small cells of a CSV table of counts (0 < value < ``threshold``), its total
    rows and columns, and the flagged cells each would let someone recover."""
    rows = parse(text)
    if len(rows) < 2 or threshold <= 1:
        return Findings(threshold)
    table = _table(rows)
    total_rows, total_columns = _total_rows(table), _total_columns(table)
    small = [
        (r, c, value)
        for r, row in enumerate(table.values)
        for c in table.numeric
        if (value := row[c]) is not None and 0 < value < threshold
    ]
    inner = [(r, c) for r, c, _ in small if r not in total_rows and c not in total_columns]
    per_row, per_column = Counter(r for r, _ in inner), Counter(c for _, c in inner)
    values = {(r, c): value for r, c, value in small}
    found = [
        (r, c, via)
        for r, c in inner
        for via, alone in (("row", per_row[r] == 1 and total_columns),
                           ("column", per_column[c] == 1 and total_rows))
        if alone
    ]  # fmt: skip

    def cell(r: int, c: int) -> Cell:
        return Cell(r, c, table.labels[r], table.header[c], values[(r, c)])

    recoverable = [
        Recovery(cell(r, c), via, table.labels[r] if via == "row" else table.header[c])
        for r, c, via in found[:LISTED]
    ]
    return Findings(
        threshold,
        [cell(r, c) for r, c, _ in small[:LISTED]],
        [table.labels[r] for r in sorted(total_rows)],
        [table.header[c] for c in sorted(total_columns)],
        recoverable,
        len(small),
        len(found),
    )
