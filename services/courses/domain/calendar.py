"""Days as people mean them: a search `from` a date starts at midnight in the Netherlands. Pure."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TIME)


def end_of_day(day: date) -> datetime:
    """The first moment after the day: an exclusive bound."""
    return start_of_day(day + timedelta(days=1))
