"""Cursors round-trip and a forged one is bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import create_engine
from shared.errors import InvalidInput
from shared.ids import new_id
from shared.pagination import decode_cursor, encode_cursor, keyset_page


def test_cursor_round_trips_its_key() -> None:
    cursor = encode_cursor("2026-11-29T10:00:00+00:00", "01a226a7-6a8a-7755-b993-752cc161a706")
    assert decode_cursor(cursor) == ["2026-11-29T10:00:00+00:00", "01a226a7-6a8a-7755-b993-752cc161a706"]


def test_no_cursor_means_the_first_page() -> None:
    assert decode_cursor(None) is None and decode_cursor("") is None


@pytest.mark.parametrize("forged", ["%%%", "bm90IGpzb24", "eyJhIjoxfQ"])
def test_forged_cursor_is_bad_input(forged: str) -> None:
    with pytest.raises(InvalidInput):
        decode_cursor(forged)


async def test_keyset_pages_walk_every_row_once_in_either_direction(database_url: str) -> None:
    metadata = sa.MetaData()
    rows = sa.Table(
        "paged",
        metadata,
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    engine = create_engine(database_url, schema="pagination_test", pool_size=1)
    start = datetime(2026, 11, 29, tzinfo=UTC)
    # Two rows share a time: the id decides between them, so none is skipped or repeated at a page edge.
    made = [(new_id(), start + timedelta(minutes=n // 2)) for n in range(7)]
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS pagination_test"))
            await conn.run_sync(metadata.create_all)
            await conn.execute(rows.insert(), [{"id": i, "at": at} for i, at in made])
        for descending in (False, True):
            seen, cursor = [], None
            async with engine.connect() as conn:
                session = AsyncSession(bind=conn)
                while True:
                    page, cursor = await keyset_page(
                        session, sa.select(rows), [rows.c.at, rows.c.id], cursor, 2, descending=descending
                    )
                    seen += [(row.id, row.at) for row in page]
                    if cursor is None:
                        break
            assert seen == sorted(made, key=lambda r: (r[1], r[0]), reverse=descending)
    finally:
        async with engine.begin() as conn:
            await conn.execute(sa.text("DROP SCHEMA pagination_test CASCADE"))
        await engine.dispose()
