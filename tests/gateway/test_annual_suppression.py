"""Small counts in the annual report: hidden when they could name someone, and what would give them away hidden
too; the year runs on the Dutch calendar. Unit tests: no servers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.annual_files import pdf_of
from gateway.annual_report import AnnualReport, published
from gateway.annual_suppression import HIDDEN, SMALL, TOTAL, Column, Row, Table, suppress
from shared.reporting import year_bounds

PEOPLE = [Column("a", "people"), Column("b", "people"), Column("sum", "people")]


def table(rows: dict[str, dict[str, int | float | None]], columns: list[Column] = PEOPLE, **extra: object) -> Table:
    return suppress(
        Table(
            "t",
            "T",
            columns,
            {c.key: c.key for c in columns},
            [Row(key, key, values) for key, values in rows.items()],
            **extra,  # type: ignore[arg-type]
        )
    )


def shown(t: Table) -> dict[str, dict[str, object]]:
    return {row.key: {c.key: t.cell(row, c.key) for c in t.columns} for row in t.rows}


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 0), (1, SMALL), (4, SMALL), (5, 5), (17, 17)], ids=["0", "1", "4", "5", "17"]
)
def test_a_count_of_people_from_1_to_4_is_shown_as_less_than_5(value: int, expected: object) -> None:
    assert shown(table({"x": {"a": value, "b": 0, "sum": value}}))["x"]["a"] == expected


def test_a_hidden_part_of_a_row_takes_the_next_smallest_part_with_it() -> None:
    t = table({"x": {"a": 3, "b": 9, "sum": 12}}, sums=[("sum", ("a", "b"))])
    assert shown(t)["x"] == {"a": SMALL, "b": HIDDEN, "sum": 12}


def test_a_hidden_part_without_another_to_hide_hides_the_total() -> None:
    t = table({"x": {"a": 3, "b": 0, "sum": 3}}, sums=[("sum", ("a", "b"))])
    assert shown(t)["x"] == {"a": SMALL, "b": 0, "sum": SMALL}  # the total was small itself
    wide = table(
        {"x": {"a": 3, "b": 0, "sum": 8}},
        [Column("a", "people"), Column("b", "people"), Column("sum", "things")],
        sums=[("sum", ("a", "b"))],
    )
    assert shown(wide)["x"] == {"a": SMALL, "b": 0, "sum": HIDDEN}


def test_a_hidden_row_of_a_column_with_a_total_row_takes_another_row_with_it() -> None:
    t = table({"p": {"a": 2, "b": 0, "sum": 0}, "q": {"a": 7, "b": 0, "sum": 0}, TOTAL: {"a": 9, "b": 0, "sum": 0}})
    assert [shown(t)[key]["a"] for key in ("p", "q", TOTAL)] == [SMALL, HIDDEN, 9]


def test_a_figure_over_fewer_than_5_people_is_hidden_and_money_never() -> None:
    columns = [
        Column("people", "people"),
        Column("median", "derived", base=("people",), additive=False),
        Column("euros", "money"),
    ]
    few = table({"x": {"people": 3, "median": 2.5, "euros": 120_000}}, columns)
    many = table({"x": {"people": 6, "median": 2.5, "euros": 120_000}}, columns)
    none = table({"x": {"people": 0, "median": None, "euros": 0}}, columns)
    assert shown(few)["x"] == {"people": SMALL, "median": HIDDEN, "euros": 120_000}
    assert shown(many)["x"] == {"people": 6, "median": 2.5, "euros": 120_000}
    assert shown(none)["x"] == {"people": 0, "median": None, "euros": 0}


def test_the_year_starts_and_ends_at_midnight_in_the_netherlands() -> None:
    start, end = year_bounds(2026)
    assert start == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)  # winter time: UTC+1
    assert end == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    new_years_night = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January in Amsterdam
    assert start <= new_years_night < end


def test_the_pdf_is_a_well_formed_document_with_its_figures() -> None:
    t = table({"x": {"a": 3, "b": 9, "sum": 12}}, sums=[("sum", ("a", "b"))])
    report = AnnualReport(
        municipality="gem",
        library=None,
        year=2026,
        threshold=5,
        suppression="Kleine aantallen (1 tot en met 4) staan er als <5.",
        complete=True,
        missing=[],
        tables=[published(t)],
        generated_at=datetime(2026, 12, 4, tzinfo=UTC),
    )
    pdf = pdf_of(report, title="Jaarverslag 2026 – één", subtitle="gem", show=lambda v, k: str(v), charts=[])
    assert pdf.startswith(b"%PDF-1.4") and pdf.endswith(b"%%EOF\n")
    assert "(Jaarverslag 2026 – één)".encode("cp1252") in pdf
    for figure in (b"(<5)", b"(*)", b"(12)"):
        assert figure in pdf
    start = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert pdf[start:].startswith(b"xref\n")
    offsets = [int(line[:10]) for line in pdf[start:].split(b"\n")[3:] if line.endswith(b" n ")]
    assert all(
        pdf[offset:].split(b" ", 1)[0].isdigit() and b" 0 obj" in pdf[offset : offset + 16] for offset in offsets
    )


def test_a_rate_of_the_total_is_hidden_where_a_rows_is() -> None:
    """One library's rate hidden (3 people), the other with none (no marks): the total's rate was the hidden one."""
    columns = [
        Column("enrolled", "people"),
        Column("rate", "derived", base=("enrolled",), additive=False),
    ]
    t = table(
        {
            "centrum": {"enrolled": 3, "rate": 50},
            "noord": {"enrolled": 0, "rate": None},
            TOTAL: {"enrolled": 6, "rate": 50},
        },
        columns,
    )
    assert [shown(t)[key]["rate"] for key in ("centrum", "noord", TOTAL)] == [HIDDEN, None, HIDDEN]
    every_row_shown = table(
        {
            "centrum": {"enrolled": 6, "rate": 50},
            "noord": {"enrolled": 8, "rate": 75},
            TOTAL: {"enrolled": 14, "rate": 64},
        },
        columns,
    )
    assert shown(every_row_shown)[TOTAL]["rate"] == 64
