"""Where a benchmark writes its figures: its own section of BENCHMARKS.md, replaced
whole on each run (or added at the end the first time)."""

import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "BENCHMARKS.md"


def write_section(title: str, section: str, header: str = "# Benchmarks\n") -> None:
    """Put ``section`` (which starts with the line ``title``) in place of the section
    of that title, up to the next ``## `` heading."""
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else header
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    BENCHMARKS.write_text(text.rstrip("\n") + "\n")
