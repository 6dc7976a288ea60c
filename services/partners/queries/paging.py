"""Keyset pagination over a unique sort key, with the cursors of shared/pagination."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa

from shared.errors import InvalidInput
from shared.pagination import decode_cursor, encode_cursor

T = TypeVar("T")


def as_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def as_uuid(value: Any) -> UUID:
    return UUID(str(value))


def as_str(value: Any) -> str:
    return str(value)


def decode_key(cursor: str | None, kinds: Sequence[Callable[[Any], Any]]) -> list[Any] | None:
    """The sort key a cursor holds, each part as its column's type; None on the first page."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    if len(key) != len(kinds):
        raise InvalidInput("the cursor is not valid")
    try:
        return [kind(value) for kind, value in zip(kinds, key, strict=True)]
    except (TypeError, ValueError) as exc:
        raise InvalidInput("the cursor is not valid") from exc


def after(cursor: str | None, columns: Sequence[Any], kinds: Sequence[Callable[[Any], Any]]) -> Any | None:
    """The WHERE clause that continues after the cursor's key (ascending), or None on the first page."""
    values = decode_key(cursor, kinds)
    if values is None:
        return None
    return sa.tuple_(*columns) > sa.tuple_(*values)


def page(rows: Sequence[T], limit: int, key: Callable[[T], Sequence[Any]]) -> tuple[list[T], str | None]:
    """The rows of this page (fetch `limit + 1`) and the cursor of the next page, None on the last."""
    if len(rows) <= limit:
        return list(rows), None
    shown = list(rows[:limit])
    return shown, encode_cursor(*key(shown[-1]))
