"""The clock is injected so that domain rules and tests never read the wall time themselves."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

# The platform's calendar, whatever zone a server runs in: a consent's last day, a partnership's end, a budget
# year, a volunteer's month of hours and a search "from" a date are Dutch days, months and years.
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")


def local_date(moment: datetime) -> date:
    """The Dutch calendar day `moment` falls on."""
    return moment.astimezone(LOCAL_TIME).date()


def local_today() -> date:
    """Today in the platform's calendar (what the services call today), whatever zone this machine runs in: between
    23:00 and 24:00 UTC in winter the machine's date.today() is already yesterday in the Netherlands."""
    return local_date(datetime.now(UTC))


def start_of_day(day: date) -> datetime:
    """The first moment of a Dutch calendar day: where a search `from` that day starts."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TIME)


def end_of_day(day: date) -> datetime:
    """The first moment after a Dutch calendar day: an exclusive bound."""
    return start_of_day(day + timedelta(days=1))


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests: it stands still until told to move."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, by: timedelta) -> None:
        self._at += by
