"""Statements for direct connections (shared/db.py): compiled once, parameters by name in asyncpg's order."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.db import DirectRow, Prepared, columns_of, in_rounds

things = sa.Table(
    "things",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner", sa.Text),
    sa.Column("kind", sa.Text),
)


def test_parameters_are_given_by_name_and_constants_of_the_statement_are_kept() -> None:
    statement = sa.select(things).where(
        things.c.owner == sa.bindparam("owner"), things.c.kind == "book", things.c.id > sa.bindparam("after")
    )
    prepared = Prepared("SELECT things", statement)
    assert "$1" in prepared.sql and "$3" in prepared.sql and "book" not in prepared.sql
    assert prepared.arguments({"after": 7, "owner": "library-a"}) == ["library-a", "book", 7]


def test_a_parameter_used_twice_is_given_once() -> None:
    owner = sa.bindparam("owner", type_=sa.Text)
    prepared = Prepared(
        "SELECT things", sa.select(things).where(sa.or_(things.c.owner == owner, things.c.kind == owner))
    )
    assert prepared.sql.count("$1") == 2 and "$2" not in prepared.sql
    assert prepared.arguments({"owner": "x"}) == ["x"]


def test_a_missing_parameter_is_named() -> None:
    prepared = Prepared("SELECT things", sa.select(things).where(things.c.owner == sa.bindparam("owner")))
    with pytest.raises(TypeError, match="'owner'"):
        prepared.arguments({})


def test_a_row_reads_by_attribute_and_an_unknown_name_is_an_attribute_error() -> None:
    row = DirectRow({"id": 1, "owner": "library-a"})  # a record reads like this mapping
    assert (row.id, row.owner) == (1, "library-a")
    with pytest.raises(AttributeError):
        _ = row.kind


def test_rows_of_one_key_go_into_rounds_in_their_order_and_distinct_keys_into_one() -> None:
    rows = [{"id": 1, "n": "a"}, {"id": 2, "n": "b"}, {"id": 1, "n": "c"}, {"id": 1, "n": "d"}, {"id": 3, "n": "e"}]

    rounds = in_rounds(rows)

    assert [[row["n"] for row in round_] for round_ in rounds] == [["a", "b", "e"], ["c"], ["d"]]
    assert in_rounds(rows[:2]) == [rows[:2]]
    assert columns_of(rows[:2], ("n", "id")) == [["a", "b"], [1, 2]]
