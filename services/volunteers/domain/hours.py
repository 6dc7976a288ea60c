"""Hours: on which days an assignment's hours may be logged, at most a day's worth per volunteer, and an entry
that is corrected or removed keeps its history. Pure: callers pass the dates and sums."""

from __future__ import annotations

from datetime import date, datetime

from shared.errors import Conflict, IllegalTransition, InvalidInput

MINUTES_PER_DAY = 24 * 60


def first_day(starts_on: date | None, assigned_on: date) -> date:
    """Hours count from the assignment's start; without a start date, from the day it was made."""
    return starts_on if starts_on is not None else assigned_on


def last_day(ends_on: date | None, ended_on: date | None) -> date | None:
    """Until its end date, or the day it was ended if that came first; None while it runs open-ended."""
    days = [day for day in (ends_on, ended_on) if day is not None]
    return min(days) if days else None


def check_day(worked_on: date, today: date, first: date, last: date | None) -> None:
    if worked_on > today:
        raise InvalidInput("hours are logged once worked, not in advance")
    if worked_on < first:
        raise InvalidInput(f"{worked_on} is before the assignment started ({first})")
    if last is not None and worked_on > last:
        raise InvalidInput(f"{worked_on} is after the assignment ended ({last})")


def check_day_total(worked_on: date, minutes_already: int, minutes: int) -> None:
    """One volunteer works at most 24 hours on a day, over all their assignments together."""
    if minutes_already + minutes > MINUTES_PER_DAY:
        raise Conflict(
            f"{minutes_already + minutes} minutes on {worked_on} is more than a day has: {minutes_already} are "
            f"logged for that day already",
            worked_on=worked_on.isoformat(),
            minutes_logged=minutes_already,
            minutes_left=max(MINUTES_PER_DAY - minutes_already, 0),
        )


def check_not_removed(removed_at: datetime | None, step: str) -> None:
    if removed_at is not None:
        raise IllegalTransition(f"a removed hours entry cannot be {step}", state="removed", step=step)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
