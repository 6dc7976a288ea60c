"""Interns: supplied by a school for a period; they end by themselves once the period is over."""

from __future__ import annotations

from datetime import date, datetime

from shared.contracts.volunteers.api.volunteers import VolunteerStatus
from shared.errors import Conflict, InvalidInput


def check_period(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise InvalidInput("an internship cannot end before it starts")


def period_is_over(ends_on: date, today: date) -> bool:
    """`ends_on` is the internship's last day: it is over from the day after."""
    return today > ends_on


def check_may_confirm(status: VolunteerStatus, ended_on: date | None, confirmed_at: datetime | None) -> None:
    """The school confirms a running internship's period, once."""
    if ended_on is not None or status is VolunteerStatus.ENDED:
        raise Conflict("the internship has ended", state=status.value)
    if status in (VolunteerStatus.REJECTED, VolunteerStatus.WITHDRAWN):
        raise Conflict(f"the intern was {status.value}", state=status.value)
    if confirmed_at is not None:
        raise Conflict("the period is confirmed already", confirmed_at=confirmed_at.isoformat())


def check_may_assess(ends_on: date, ended_on: date | None, today: date) -> None:
    """The assessment comes at the end: from the period's last day, or once the internship ended earlier."""
    if ended_on is None and today < ends_on:
        raise Conflict(f"the internship runs until {ends_on.isoformat()}: assess it at the end", ends_on=str(ends_on))
