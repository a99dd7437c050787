"""Horizontal bar charts, laid out here and drawn as inline SVG by templates/_chart.html.

Server-rendered, no script and no library: the page stays within its content
security policy and reads the same without the picture (every chart comes with its
figures in words, and the page shows them in a table too).
"""

from dataclasses import dataclass

LABEL_WIDTH = 230  # room for the row labels, right-aligned against the bars
PLOT_WIDTH = 340
VALUE_WIDTH = 110  # room for the value written after each bar
BAR_HEIGHT = 18
BAR_GAP = 4  # between the bars of one row
ROW_GAP = 14  # between rows
TOP = 8


@dataclass(frozen=True)
class Bar:
    series: str  # names a CSS class (bar-<series>) and a legend entry
    value: float
    text: str  # the value as written next to the bar
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class RowLabel:
    text: str
    y: float  # the text's baseline


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str  # the figures in words: the chart's text alternative
    width: int
    height: int
    labels: list[RowLabel]
    bars: list[Bar]
    series: list[tuple[str, str]]  # (series, legend text), in drawing order
    label_x: int = LABEL_WIDTH - 8  # where the row labels end


def bar_chart(
    title: str,
    rows: list[tuple[str, list[tuple[float, str]]]],
    series: list[tuple[str, str]],
) -> BarChart:
    """``rows``: (label, one (value, text) per series); bars scale to the largest value."""
    largest = max((value for _, values in rows for value, _ in values), default=0) or 1
    bars, labels, described = [], [], []
    y = TOP
    for label, values in rows:
        group_height = len(values) * BAR_HEIGHT + (len(values) - 1) * BAR_GAP
        labels.append(RowLabel(label, y + group_height / 2 + 5))
        for (key, _legend), (value, text) in zip(series, values, strict=True):
            width = PLOT_WIDTH * value / largest
            bars.append(Bar(key, value, text, LABEL_WIDTH, y, round(width, 1), BAR_HEIGHT))
            y += BAR_HEIGHT + BAR_GAP
        y += ROW_GAP - BAR_GAP
        shown = ", ".join(
            f"{legend} {text}" if len(series) > 1 else text
            for (_, legend), (_, text) in zip(series, values, strict=True)
        )
        described.append(f"{label}: {shown}")
    return BarChart(
        title=title,
        description="; ".join(described) + ".",
        width=LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH,
        height=int(y - ROW_GAP + TOP * 2),
        labels=labels,
        bars=bars,
        series=series,
    )
