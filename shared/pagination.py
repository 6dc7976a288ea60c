"""Cursor pagination for every list: opaque cursors over a stable sort key, never offsets.

A cursor encodes the sort key of the last row a reader saw (e.g. `(submitted_at, id)`), so pages do
not shift when rows are added, and the database walks an index instead of skipping rows.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.vocabulary import Page
from shared.errors import InvalidInput

__all__ = ["Page", "decode_cursor", "encode_cursor", "keyset_page"]

T = TypeVar("T")


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(list(key))).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """The key encoded by `encode_cursor`; a cursor that was not made by us is bad input, not a crash."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = msgspec.json.decode(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, msgspec.DecodeError) as exc:
        raise InvalidInput("the cursor is not valid") from exc
    if not isinstance(key, list):
        raise InvalidInput("the cursor is not valid")
    return key


def _key_value(column: sa.ColumnElement[Any], raw: Any) -> Any:
    """A cursor's key part back as its column's type, so the comparison happens in the column's own order."""
    kind = column.type
    if isinstance(kind, sa.DateTime):
        return datetime.fromisoformat(raw)
    if isinstance(kind, sa.Date):
        return date.fromisoformat(raw)
    if isinstance(kind, sa.Uuid):
        return UUID(raw)
    if isinstance(kind, sa.Integer):
        return int(raw)
    return str(raw)


def _key_text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value if isinstance(value, int) else str(value)


async def keyset_page(
    session: AsyncSession,
    statement: sa.Select[Any],
    key: Sequence[sa.ColumnElement[Any]],
    cursor: str | None,
    limit: int,
    *,
    descending: bool = False,
) -> tuple[Sequence[sa.Row[Any]], str | None]:
    """One page of `statement` in the order of `key` (unique, ending in an id; newest first with
    `descending`), and the next page's cursor
    (None on the last). The cursor holds the key of the last row the reader saw, so rows added meanwhile
    never shift a page and the database walks an index instead of skipping rows."""
    after = decode_cursor(cursor)
    if after is not None:
        try:
            if len(after) != len(key):
                raise ValueError("wrong length")
            values = [sa.literal(_key_value(column, raw), column.type) for column, raw in zip(key, after, strict=True)]
        except (TypeError, ValueError) as exc:
            raise InvalidInput("the cursor is not valid") from exc
        after_key = sa.tuple_(*key) < sa.tuple_(*values) if descending else sa.tuple_(*key) > sa.tuple_(*values)
        statement = statement.where(after_key)
    order = [column.desc() for column in key] if descending else list(key)
    rows = (await session.execute(statement.order_by(*order).limit(limit + 1))).all()
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]._mapping
    return rows, encode_cursor(*(_key_text(last[column]) for column in key))
