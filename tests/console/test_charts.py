"""Stacked bars: one scale per chart, segments side by side, empty series left out of the legend."""

from __future__ import annotations

from gateway.console.charts import PLOT_WIDTH, PLOT_X, stacked


def test_the_largest_bar_spans_the_plot_and_the_others_are_to_scale() -> None:
    chart = stacked(
        "c",
        "Referrals",
        [("North", {"submitted": 2, "accepted": 2}), ("South", {"submitted": 1, "accepted": 1})],
        [("submitted", "submitted"), ("accepted", "accepted"), ("declined", "declined")],
    )
    north, south = chart.bars
    assert north.total == 4 and south.total == 2
    assert north.segments[-1].x + north.segments[-1].width == PLOT_X + PLOT_WIDTH
    assert south.segments[-1].x + south.segments[-1].width == PLOT_X + PLOT_WIDTH / 2
    assert north.segments[1].x == north.segments[0].x + north.segments[0].width
    assert [label for _, label in chart.legend] == ["submitted", "accepted"]  # "declined" has no value anywhere
    assert north.y < south.y
    assert not chart.empty


def test_a_chart_without_values_says_it_is_empty() -> None:
    chart = stacked("c", "Budget", [("North", {}), ("South", {"spent": 0})], [("spent", "spent")])
    assert chart.empty
    assert all(segment.width == 0 for bar in chart.bars for segment in bar.segments)


def test_values_are_shown_the_way_the_chart_asks() -> None:
    chart = stacked(
        "c", "Budget", [("North", {"spent": 12_345})], [("spent", "spent")], show=lambda c: f"€{c / 100:.2f}"
    )
    assert chart.bars[0].total_text == "€123.45"
    assert chart.bars[0].segments[0].text == "€123.45"
    assert chart.bars[0].segments[0].colour == "c0"
