"""Identifiers are UUIDv7: RFC 9562 layout, carrying the time they were made, and ordered by it."""

from __future__ import annotations

import time
import uuid

from shared.ids import new_id


def test_new_id_is_a_version_7_uuid() -> None:
    assert {new_id().version for _ in range(100)} == {7}


def test_new_id_has_the_rfc_9562_variant() -> None:
    # RFC 9562 keeps RFC 4122's variant bits, 0b10.
    ids = [new_id() for _ in range(100)]

    assert {i.variant for i in ids} == {uuid.RFC_4122}
    assert {i.int >> 62 & 0b11 for i in ids} == {0b10}


def test_new_id_carries_the_current_unix_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000

    assert before <= made.int >> 80 <= after


def test_new_ids_are_unique_and_random_beyond_the_timestamp() -> None:
    ids = [new_id() for _ in range(10_000)]

    assert len(set(ids)) == len(ids)
    assert len({i.int & ((1 << 62) - 1) for i in ids}) == len(ids)


def test_ids_made_later_sort_after_earlier_ones() -> None:
    made = []
    for _ in range(8):
        made.append(new_id())
        time.sleep(0.002)  # ordering is guaranteed across milliseconds, not within one

    assert sorted(made) == made
    assert sorted(str(i) for i in made) == [str(i) for i in made]
    assert sorted(i.bytes for i in made) == [i.bytes for i in made]
