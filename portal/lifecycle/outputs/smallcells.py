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
import re
from dataclasses import asdict, dataclass, field

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
    flagged: list[Cell] = field(default_factory=list)
    total_rows: list[str] = field(default_factory=list)
    total_columns: list[str] = field(default_factory=list)
    recoverable: list[Recovery] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _number(text: str) -> float | None:
    text = text.strip().replace(",", "").replace(" ", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value else None  # NaN is no count


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


def _sums_others(value: float | None, others: list[float | None]) -> bool:
    present = [v for v in others if v is not None]
    return value is not None and len(present) >= 2 and abs(sum(present) - value) < 1e-9


def _total_rows(table: _Table) -> set[int]:
    rows = range(len(table.values))
    found = {r for r in rows if TOTAL_LABEL.search(table.labels[r])}
    for r in rows:
        if r in found or not table.numeric:
            continue
        others = [o for o in rows if o != r and o not in found]
        if all(_sums_others(table.values[r][c], table.column(c, others)) for c in table.numeric):
            found.add(r)
    return found


def _total_columns(table: _Table) -> set[int]:
    found = {c for c in table.numeric if TOTAL_LABEL.search(table.header[c])}
    for c in table.numeric:
        if c in found or not table.values:
            continue
        others = [o for o in table.numeric if o != c and o not in found]
        if all(_sums_others(row[c], [row[o] for o in others]) for row in table.values):
            found.add(c)
    return found


def find(text: str, threshold: int) -> Findings:
    """The small cells of a CSV table of counts (0 < value < ``threshold``), its total
    rows and columns, and the flagged cells each would let someone recover."""
    rows = parse(text)
    if len(rows) < 2 or threshold <= 1:
        return Findings(threshold)
    table = _table(rows)
    total_rows, total_columns = _total_rows(table), _total_columns(table)
    flagged = [
        Cell(r, c, table.labels[r], table.header[c], value)
        for r, row in enumerate(table.values)
        for c in table.numeric
        if (value := row[c]) is not None and 0 < value < threshold
    ]
    inner = [f for f in flagged if f.row not in total_rows and f.column not in total_columns]
    recoverable = []
    for cell in inner:
        if total_columns and sum(f.row == cell.row for f in inner) == 1:
            recoverable.append(Recovery(cell, "row", cell.row_label))
        if total_rows and sum(f.column == cell.column for f in inner) == 1:
            recoverable.append(Recovery(cell, "column", cell.column_label))
    return Findings(
        threshold,
        flagged,
        [table.labels[r] for r in sorted(total_rows)],
        [table.header[c] for c in sorted(total_columns)],
        recoverable,
    )
