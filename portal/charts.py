"""Horizontal bar charts, laid out here and drawn by templates/_chart.html.

Server-rendered, no script and no library: the page stays within its content
security policy and reads the same without the picture (every chart comes with its
figures in words, and the page shows them in a table too). The labels and values are
page text on the chart's solid background, so their contrast is that of any text
(and measurable); only the bars themselves are drawn, each as an SVG whose width is
its share of the largest value.
"""

from dataclasses import dataclass

from flask_babel import gettext as _


@dataclass(frozen=True)
class Bar:
    series: str  # names a CSS class (bar-<series>) and a legend entry
    value: float
    text: str  # the value as written next to the bar
    share: float  # percent of the largest value: the bar's length in its track


@dataclass(frozen=True)
class Row:
    label: str
    bars: list[Bar]


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str  # the figures in words: the chart's text alternative
    rows: list[Row]
    series: list[tuple[str, str]]  # (series, legend text), in drawing order


def bar_chart(
    title: str,
    rows: list[tuple[str, list[tuple[float, str]]]],
    series: list[tuple[str, str]],
) -> BarChart:
    """``rows``: (label, one (value, text) per series); bars scale to the largest value."""
    largest = max((value for _, values in rows for value, _ in values), default=0) or 1
    laid_out, described = [], []
    for label, values in rows:
        bars = [
            Bar(key, value, text, round(100 * value / largest, 1))
            for (key, _legend), (value, text) in zip(series, values, strict=True)
        ]
        laid_out.append(Row(label, bars))
        shown = ", ".join(
            f"{legend} {text}" if len(series) > 1 else text
            for (_, legend), (_, text) in zip(series, values, strict=True)
        )
        described.append(_("%(label)s: %(figures)s", label=label, figures=shown))
    return BarChart(
        title=title, description="; ".join(described) + ".", rows=laid_out, series=series
    )
