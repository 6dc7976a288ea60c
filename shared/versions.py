"""Optimistic concurrency, one way in every service.

A change names the version its author saw (`expected_version`, absent: no check). A change based on another
version than the current one is refused with 409 and the current state, so the caller can show it and decide
again instead of overwriting someone else's change. Pure: the caller locks the row and builds the view.

    if is_stale(command.expected_version, row.version):
        raise version_conflict(f"referral {row.id}", command.expected_version, referral_view(row))
"""

from __future__ import annotations

from typing import Any

import msgspec

from shared.errors import Conflict


def is_stale(expected: int | None, current: int) -> bool:
    return expected is not None and expected != current


def version_conflict(what: str, expected: int | None, current: Any) -> Conflict:
    """`current` is the view of what is there now (a struct with a `version`); it goes along in the 409."""
    state = msgspec.to_builtins(current)
    return Conflict(
        f"{what} is at version {state['version']}, not {expected}: read it again and retry",
        expected_version=expected,
        current=state,
    )
