"""The annual report's tables add up: a by-library table whose total counts what is at none of its libraries (a
partner's course at its own premises) says so in a row of its own. Unit tests: no servers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.annual_suppression import TOTAL, Column, suppress
from gateway.annual_tables import ELSEWHERE, Rows, Values
from gateway.console.messages import translate

COLUMNS = [
    Column("courses", "things"),
    Column("enrolled", "people"),
    Column("rate", "derived", base=("enrolled",), additive=False),
]


@dataclass
class Figure:
    library: str | None
    partner_id: str | None
    courses: int
    enrolled: int
    rate: float | None


def values(figure: Any) -> Values:
    return {"courses": figure.courses, "enrolled": figure.enrolled, "rate": figure.rate}


def by_library(figures: list[Figure]) -> dict[str, dict[str, object]]:
    rows = Rows(
        ["centrum", "noord"], {"centrum": "Centrum", "noord": "Noord"}, {}, lambda key, **_: translate("nl", key)
    )
    nothing: Values = {"courses": 0, "enrolled": 0, "rate": None}
    table = suppress(rows.per_library_and_partner("courses", figures, values, nothing, COLUMNS, "courses")[0])
    return {row.label: {c.key: table.cell(row, c.key) for c in table.columns} for row in table.rows}


def test_what_the_total_counts_at_none_of_the_libraries_is_a_row_of_its_own() -> None:
    shown = by_library(
        [
            Figure("centrum", None, 3, 12, 80.0),
            Figure("noord", None, 2, 9, 70.0),
            Figure(None, "volksuniversiteit", 1, 6, 90.0),  # its own course, at its own premises
            Figure(None, None, 6, 27, 80.0),
        ]
    )
    elsewhere = translate("nl", f"annual.row_{ELSEWHERE}")
    assert list(shown) == ["Centrum", "Noord", elsewhere, translate("nl", f"annual.row_{TOTAL}")]
    assert shown[elsewhere] == {"courses": 1, "enrolled": 6, "rate": None}


def test_a_table_whose_rows_make_its_total_has_no_such_row() -> None:
    shown = by_library(
        [Figure("centrum", None, 3, 12, 80.0), Figure("noord", None, 2, 9, 70.0), Figure(None, None, 5, 21, 75.0)]
    )
    assert list(shown) == ["Centrum", "Noord", translate("nl", f"annual.row_{TOTAL}")]
