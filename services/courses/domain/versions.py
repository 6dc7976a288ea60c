"""Optimistic concurrency: a change names the version its author saw, and a stale one is refused. Pure."""

from __future__ import annotations

from typing import Any

import msgspec

from shared.errors import Conflict


def is_stale(expected: int | None, actual: int) -> bool:
    return expected is not None and expected != actual


def version_conflict(what: str, expected: int | None, current: Any) -> Conflict:
    """409 with the current state, so the caller can show it and decide again."""
    return Conflict(
        f"{what} changed meanwhile: you saw version {expected}, it is now at {msgspec.to_builtins(current)['version']}",
        current=msgspec.to_builtins(current),
    )
