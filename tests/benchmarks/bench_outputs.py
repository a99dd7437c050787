"""Benchmark of the checks an output goes through at submission; writes the "Outputs
before publication" section of BENCHMARKS.md.

    python tests/benchmarks/bench_outputs.py            # up to the 10 MB limit
    python tests/benchmarks/bench_outputs.py --quick    # smaller sizes; BENCHMARKS.md untouched

Not collected by pytest. Measures, for CSV tables of counts up to the default size
limit (10 MB), the time to tell the type from the content (content.media_type, which
parses the whole table) and to find its small cells and the totals that give them away
(smallcells.find), which submission runs once per asking Nation. Each table has a total
row and a total column, so the recovery search does its full work.
"""

import argparse
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.lifecycle.outputs.content import media_type  # noqa: E402
from portal.lifecycle.outputs.smallcells import find  # noqa: E402

from report import write_section  # noqa: E402

TITLE = "## Outputs before publication"
COLUMNS = 20


def table(rows: int) -> bytes:
    rng = random.Random(rows)
    lines = ["Area," + ",".join(f"Group {c}" for c in range(COLUMNS)) + ",Total"]
    sums = [0] * COLUMNS
    for r in range(rows):
        counts = [rng.choice((0, 1, 3, 7, 12, 40, 250)) for _ in range(COLUMNS)]
        sums = [a + b for a, b in zip(sums, counts, strict=True)]
        lines.append(f"Area {r}," + ",".join(map(str, counts)) + f",{sum(counts)}")
    lines.append("Total," + ",".join(map(str, sums)) + f",{sum(sums)}")
    return ("\n".join(lines) + "\n").encode()


def timed(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(rows: int, repeat: int) -> tuple[int, int, float, float, int]:
    data = table(rows)
    text = data.decode()
    typing = timed(lambda: media_type(data, "table.csv"), repeat)
    finding = timed(lambda: find(text, 5), repeat)
    flagged = find(text, 5).flagged_count
    return rows, len(data), typing, finding, flagged


def report(results) -> str:
    lines = [
        TITLE,
        "",
        f"Measured by `python tests/benchmarks/bench_outputs.py` in one run on CPython "
        f"{platform.python_version()}, {platform.machine()}.",
        "",
        f"CSV tables of counts ({COLUMNS} columns, a total row and column), median of "
        "the runs: telling the type from the content, and finding the small cells "
        "(threshold 5) with the totals that would recover them, once per asking Nation.",
        "",
        "| rows | size | type from content | small cells and totals | cells flagged |",
        "|---:|---:|---:|---:|---:|",
    ]
    for rows, size, typing, finding, flagged in results:
        lines.append(
            f"| {rows:,} | {size / 1024 / 1024:.2f} MB | {typing * 1000:,.1f} ms "
            f"| {finding * 1000:,.1f} ms | {flagged:,} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="BENCHMARKS.md untouched")
    quick = parser.parse_args().quick
    sizes = [100, 1_000] if quick else [100, 1_000, 10_000, 100_000]
    section = report([measure(rows, 3 if rows >= 10_000 else 10) for rows in sizes])
    print(section)
    if not quick:
        write_section(TITLE, section)


if __name__ == "__main__":
    main()
