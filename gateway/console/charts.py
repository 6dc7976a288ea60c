"""Horizontal stacked bar charts as plain geometry, drawn as server-side SVG by templates/_chart.html.

Every bar of one chart shares a scale (the largest total spans the plot), so bars compare at a glance; each
segment keeps its number for the table beside the chart, so nothing is told by colour alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 640.0
LABEL_WIDTH = 190.0
PLOT_X = 200.0
PLOT_WIDTH = 360.0
ROW = 30.0
BAR = 18.0
TOP = 6.0
PALETTE = 9  # colours c0 … c8 in console.css


@dataclass(frozen=True)
class Segment:
    key: str
    label: str
    value: int
    text: str  # the value as the reader sees it (a number, an amount)
    x: float
    width: float
    colour: str


@dataclass(frozen=True)
class Bar:
    label: str
    total: int
    total_text: str
    y: float
    segments: list[Segment]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    bars: list[Bar]
    legend: list[tuple[str, str]]  # (colour, label)
    series: list[tuple[str, str]]  # (key, label), the table's columns
    height: float
    empty: bool
    width: float = WIDTH
    label_width: float = LABEL_WIDTH
    plot_x: float = PLOT_X
    bar_height: float = BAR
    description: str = ""  # what the chart shows, for a screen reader (<desc>)


def stacked(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, dict[str, int]]],
    series: Sequence[tuple[str, str]],
    *,
    show: Callable[[int], str] = str,
) -> Chart:
    """`rows`: (bar label, value per series key); `series`: (key, label) in the order of the stack.

    A series without a value in any row is left out of the legend and the table (but keeps its colour)."""
    colours = {key: f"c{index % PALETTE}" for index, (key, _) in enumerate(series)}
    series = [(key, name) for key, name in series if any(values.get(key, 0) > 0 for _, values in rows)]
    keys = [key for key, _ in series]
    totals = [sum(max(0, values.get(key, 0)) for key in keys) for _, values in rows]
    largest = max(totals, default=0)
    scale = PLOT_WIDTH / largest if largest else 0.0
    bars: list[Bar] = []
    for index, ((label, values), total) in enumerate(zip(rows, totals, strict=True)):
        x = PLOT_X
        segments: list[Segment] = []
        for key, name in series:
            value = max(0, values.get(key, 0))
            width = value * scale
            segments.append(Segment(key, name, value, show(value), round(x, 2), round(width, 2), colours[key]))
            x += width
        bars.append(Bar(label, total, show(total), TOP + index * ROW, segments))
    return Chart(
        id=chart_id,
        title=title,
        bars=bars,
        legend=[(colours[key], name) for key, name in series],
        series=list(series),
        height=TOP * 2 + max(1, len(rows)) * ROW,
        empty=largest == 0,
    )
