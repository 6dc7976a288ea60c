"""What of the annual report may be published: small counts of people hidden, and what would give them away.

The services send counts (gateway/annual_report.py gathers them, gateway/annual_tables.py lays them out); this
module suppresses small ones before anything leaves the gateway (API, console page, CSV, PDF):

- a count of people from 1 to THRESHOLD - 1 is shown as "<5" (0 is shown: it names nobody);
- a figure worked out over such people (a median, a rate, hours) is hidden ("*") when fewer than THRESHOLD are
  behind it;
- where a hidden count could be worked out from a total (a row's parts and its total, a column's rows and the
  total row), the next smallest count is hidden too ("*"), or else the total;
- a figure worked out over people (a median, a rate) in the total row is hidden where a row's is: it is worked out
  over the rows' people together, and where that row is the only one with such a figure it is that row's.
Money (budgets, amounts spent) and counts of things (courses, groups, places, purchases) name nobody and are
shown as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.console.messages import translate

THRESHOLD = 5
SMALL = f"<{THRESHOLD}"
HIDDEN = "*"
TOTAL = "total"


@dataclass(frozen=True)
class Column:
    key: str
    kind: str  # "people" (suppressed), "things" (courses, purchases: shown), "money", "derived" (over `base`)
    base: tuple[str, ...] = ()  # a derived figure's people: hidden when they are fewer than THRESHOLD
    additive: bool = True  # the rows add up to the total row
    decimals: int = 0


@dataclass
class Row:
    key: str  # a library's slug, a partner's id, NO_PARTNER or TOTAL
    label: str
    values: dict[str, float | int | None]
    hidden: dict[str, str] = field(default_factory=dict)  # column → SMALL or HIDDEN


@dataclass
class Table:
    id: str
    title: str
    columns: list[Column]
    labels: dict[str, str]
    rows: list[Row]
    sums: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # in a row: total = the parts

    def cell(self, row: Row, key: str) -> float | int | str | None:
        """What may be published: the value, or the mark that hides it."""
        return row.hidden.get(key, row.values.get(key))

    def has_total(self) -> bool:
        return any(row.key == TOTAL for row in self.rows)


def suppress(table: Table) -> Table:
    """Marks in place what may not be shown (see the module's note); returns the table."""
    columns = {column.key: column for column in table.columns}
    for row in table.rows:
        for column in table.columns:
            value = row.values.get(column.key)
            if column.kind == "people" and isinstance(value, int) and 0 < value < THRESHOLD:
                row.hidden[column.key] = SMALL
            elif column.kind == "derived":
                base = sum(int(row.values.get(key) or 0) for key in column.base)
                if 0 < base < THRESHOLD:
                    row.hidden[column.key] = HIDDEN
    counted = [c.key for c in table.columns if c.kind in ("people", "derived") and c.additive]
    totals = [row for row in table.rows if row.key == TOTAL]
    for column in table.columns:
        derived_of_the_rows = column.kind == "derived" and not column.additive
        if derived_of_the_rows and any(row.hidden.get(column.key) == HIDDEN for row in table.rows if row.key != TOTAL):
            for total in totals:
                total.hidden[column.key] = HIDDEN

    def hide_one_more(cells: list[tuple[Row, str]], total: tuple[Row, str]) -> bool:
        """`cells` add up to `total`: with exactly one of them hidden and the total shown, hide another."""
        total_row, total_key = total
        if total_key in total_row.hidden or sum(key in row.hidden for row, key in cells) != 1:
            return False
        shown = [(row, key) for row, key in cells if key not in row.hidden and (row.values.get(key) or 0) > 0]
        if shown:
            row, key = min(shown, key=lambda cell: cell[0].values.get(cell[1]) or 0)
            row.hidden[key] = HIDDEN
        else:
            total_row.hidden[total_key] = HIDDEN
        return True

    changed = True
    while changed:
        changed = False
        for row in table.rows:
            for total_key, parts in table.sums:
                changed |= hide_one_more([(row, key) for key in parts], (row, total_key))
        if totals:
            parts_rows = [row for row in table.rows if row.key != TOTAL]
            for key in counted:
                if columns[key].additive:
                    changed |= hide_one_more([(row, key) for row in parts_rows], (totals[0], key))
    return table


# --- the report --------------------------------------------------------------------------------------------


def suppression_rule(lang: str) -> str:
    """The rule above, in words, as the report states it."""
    return translate(
        lang, "annual.suppression", threshold=THRESHOLD, threshold_less=THRESHOLD - 1, small=SMALL, hidden=HIDDEN
    )
