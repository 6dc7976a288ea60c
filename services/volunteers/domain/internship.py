"""Interns: supplied by a school for a period; they end by themselves once the period is over."""

from __future__ import annotations

from datetime import date

from shared.errors import InvalidInput


def check_period(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise InvalidInput("an internship cannot end before it starts")


def period_is_over(ends_on: date, today: date) -> bool:
    """`ends_on` is the internship's last day: it is over from the day after."""
    return today > ends_on
