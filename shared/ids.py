"""Identifiers: UUIDv7, time-ordered, so rows that are listed by age stay in index order."""

from __future__ import annotations

import os
import time
import uuid


def new_id() -> uuid.UUID:
    # Python 3.11 has no uuid.uuid7; RFC 9562 layout: 48-bit ms timestamp, version, random bits.
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)
