"""Cursors round-trip and a forged one is bad input."""

from __future__ import annotations

import pytest

from shared.errors import InvalidInput
from shared.pagination import decode_cursor, encode_cursor


def test_cursor_round_trips_its_key() -> None:
    cursor = encode_cursor("2026-11-29T10:00:00+00:00", "01a226a7-6a8a-7755-b993-752cc161a706")
    assert decode_cursor(cursor) == ["2026-11-29T10:00:00+00:00", "01a226a7-6a8a-7755-b993-752cc161a706"]


def test_no_cursor_means_the_first_page() -> None:
    assert decode_cursor(None) is None and decode_cursor("") is None


@pytest.mark.parametrize("forged", ["%%%", "bm90IGpzb24", "eyJhIjoxfQ"])
def test_forged_cursor_is_bad_input(forged: str) -> None:
    with pytest.raises(InvalidInput):
        decode_cursor(forged)
