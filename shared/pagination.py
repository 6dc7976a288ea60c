"""Cursor pagination for every list: opaque cursors over a stable sort key, never offsets.

A cursor encodes the sort key of the last row a reader saw (e.g. `(submitted_at, id)`), so pages do
not shift when rows are added, and the database walks an index instead of skipping rows.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Generic, TypeVar

import msgspec

from shared.errors import InvalidInput

T = TypeVar("T")

Limit = Annotated[int, msgspec.Meta(ge=1, le=200)]
DEFAULT_LIMIT = 50


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    items: list[T]
    next_cursor: str | None = None  # absent on the last page


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
