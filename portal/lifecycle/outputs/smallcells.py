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
import operator
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import chain, compress, filterfalse, repeat

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


def _counts(cells: tuple[str, ...]) -> list[float | None] | None:
    """A column's counts (None for a blank cell), or None when it holds no counts: a
    cell of text, or no number at all. A column of plain numbers converts in one pass
    (map and isfinite run in C); the others are read cell by cell, and a column of
    labels stops at its first."""
    try:
        values = list(map(float, cells))
    except ValueError:
        pass
    else:
        if all(map(math.isfinite, values)):
            return values or None
    values = []
    for cell in cells:
        value = _number(cell)
        if value is None and cell.strip():
            return None
        values.append(value)
    return values if any(value is not None for value in values) else None


@dataclass
class _Table:
    """Read column by column: a 6 MB table is 2 million cells, and a pass over each cell
    in Python costs seconds, so every step works on whole columns where it can."""

    header: list[str]
    labels: list[str]
    columns: dict[int, list[float | None]]  # the columns holding counts, by position
    numeric: list[int]  # their positions
    height: int  # the data rows

    def rows(self) -> list[tuple[float | None, ...]]:
        """The counts row by row (the numeric columns only)."""
        return list(zip(*(self.columns[c] for c in self.numeric), strict=True))


def _table(rows: list[list[str]]) -> _Table:
    header, width = rows[0], len(rows[0])
    body = [
        r if len(r) == width else r[:width] + [""] * (width - len(r))
        for r in rows[1:]
        if any(map(str.strip, r))
    ]
    texts = list(zip(*body, strict=True)) if body else [() for _ in range(width)]
    columns = {c: values for c, cells in enumerate(texts) if (values := _counts(cells))}
    numeric = list(columns)
    label_column = next((c for c in range(width) if c not in columns), None)
    labels = (
        [cell.strip() for cell in texts[label_column]]
        if label_column is not None
        else [f"row {i + 1}" for i in range(len(body))]
    )
    header = [h.strip() or f"column {i + 1}" for i, h in enumerate(header)]
    return _Table(header, labels, columns, numeric, len(body))


def _is_sum(value: float | None, total: float, present: int) -> bool:
    """Whether ``value`` is the sum of the others in a line whose values sum to ``total``
    (``present`` of them, this one included): then ``total`` is twice ``value``."""
    return (
        value is not None and present >= 3 and abs(2 * value - total) <= 1e-9 * max(1, abs(total))
    )


def _line_totals(positions: list[Sequence[float | None]], labelled: set[int]) -> set[int]:
    """Which lines are totals: those labelled so, and those whose every value is the sum
    of the other lines' (the totals found aside) at its position; ``positions[p][i]`` is
    line i's value at position p. One pass per total found, each narrowing the candidate
    lines position by position, so most positions look at a handful of lines."""
    found = set(labelled)
    count = len(positions[0]) if positions else 0
    while positions:
        candidates = [i for i in range(count) if i not in found]
        for values in positions:
            kept = list(values)
            for i in found:
                kept[i] = None
            present = len(kept) - kept.count(None)
            total = math.fsum(filter(None, kept))
            candidates = [i for i in candidates if _is_sum(values[i], total, present)]
            if not candidates:
                return found
        found.add(candidates[0])  # the first such line, then the others without it
    return found


def _total_rows(table: _Table) -> set[int]:
    labelled = {r for r, label in enumerate(table.labels) if TOTAL_LABEL.search(label)}
    return _line_totals([table.columns[c] for c in table.numeric], labelled)


def _total_columns(table: _Table) -> set[int]:
    labelled = {i for i, c in enumerate(table.numeric) if TOTAL_LABEL.search(table.header[c])}
    found = _line_totals(table.rows(), labelled) if table.height else labelled
    return {table.numeric[i] for i in found}


def _small(column: list[float | None], threshold: int) -> list[int]:
    """The rows where ``column`` holds a count above zero and below ``threshold`` (for
    a column of plain numbers, compared in C rather than cell by cell in Python)."""
    if None in column:
        return [r for r, value in enumerate(column) if value is not None and 0 < value < threshold]
    below, above = map(float(threshold).__gt__, column), map((0.0).__lt__, column)
    return list(compress(range(len(column)), map(operator.and_, below, above)))


def _row_major(rows_of: dict[int, list[int]], width: int) -> list[int]:
    """Cells (``rows_of[column]``: their rows) as keys ``row * width + column``, sorted
    row by row as the table reads (integers sort in C; pairs would be built in Python)."""
    keys = (map(operator.add, map(width.__mul__, rows), repeat(c)) for c, rows in rows_of.items())
    return sorted(chain.from_iterable(keys))


def find(text: str, threshold: int) -> Findings:
    """The small cells of a CSV table of counts (0 < value < ``threshold``), its total
    rows and columns, and the flagged cells each would let someone recover."""
    rows = parse(text)
    if len(rows) < 2 or threshold <= 1:
        return Findings(threshold)
    table = _table(rows)
    width = len(table.header)
    total_rows, total_columns = _total_rows(table), _total_columns(table)
    small = {c: _small(table.columns[c], threshold) for c in table.numeric}
    # The small cells outside the totals, by column; a total gives one away when it is
    # the only such cell in its row (with a total column) or its column (a total row).
    inner = {
        c: list(filterfalse(total_rows.__contains__, found))
        for c, found in small.items()
        if c not in total_columns
    }
    per_row = Counter(chain.from_iterable(inner.values()))
    alone_in_row = {r for r, n in per_row.items() if n == 1} if total_columns else set()
    alone_in_column = {c for c, found in inner.items() if len(found) == 1} if total_rows else set()
    candidates = {
        c: found if c in alone_in_column else list(filter(alone_in_row.__contains__, found))
        for c, found in inner.items()
    }
    found = [
        (r, c, via)
        for r, c in map(lambda key: divmod(key, width), _row_major(candidates, width))
        for via, alone in (("row", r in alone_in_row), ("column", c in alone_in_column))
        if alone
    ]  # fmt: skip

    def cell(r: int, c: int) -> Cell:
        return Cell(r, c, table.labels[r], table.header[c], table.columns[c][r])

    recoverable = [
        Recovery(cell(r, c), via, table.labels[r] if via == "row" else table.header[c])
        for r, c, via in found[:LISTED]
    ]
    flagged = _row_major(small, width)
    return Findings(
        threshold,
        [cell(*divmod(key, width)) for key in flagged[:LISTED]],
        [table.labels[r] for r in sorted(total_rows)],
        [table.header[c] for c in sorted(total_columns)],
        recoverable,
        len(flagged),
        len(found),
    )
