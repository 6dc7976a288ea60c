"""The volunteers service's rules: pure, no I/O and no clock reads (callers pass the time or the date)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from shared.errors import Conflict

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")  # validity, periods and months are Dutch calendar days


def local_date(now: datetime) -> date:
    return now.astimezone(LOCAL_TIME).date()


def version_matches(expected: int | None, actual: int) -> bool:
    return expected is None or expected == actual


def version_conflict(what: str, row_id: UUID, expected: int | None, actual: int, current: Any) -> Conflict:
    """Someone else changed it first: say so, with the current state, instead of overwriting silently."""
    return Conflict(
        f"{what} {row_id} is at version {actual}, not {expected}: reload and try again",
        expected_version=expected,
        current=current,
    )
