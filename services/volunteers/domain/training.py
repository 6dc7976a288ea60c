"""Training: what a completed module gives (its qualification, with an expiry where it has one)."""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from shared.contracts.volunteers.api.volunteers import VolunteerStatus
from shared.contracts.volunteers.events import ModuleDelivery
from shared.errors import Conflict, InvalidInput


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it is shorter (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def qualification_valid_until(completed_on: date, validity_months: int | None) -> date | None:
    """The last day the qualification holds; None for one that does not expire."""
    if validity_months is None:
        return None
    return add_months(completed_on, validity_months) - timedelta(days=1)


def holds_on(valid_until: date | None, day: date) -> bool:
    return valid_until is None or day <= valid_until


def qualification_code(title: str) -> str:
    """A module bought elsewhere gives a qualification named after it until staff name it otherwise."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    code = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:63].strip("-")
    return code if len(code) >= 2 else "training"


def check_provider(delivered_by: ModuleDelivery, provider_partner_id: object | None) -> None:
    if delivered_by is ModuleDelivery.PURCHASE:
        raise InvalidInput("bought training becomes a module when the courses service delivers the purchase")
    if delivered_by is ModuleDelivery.VOLUNTEER_ORGANISATION and provider_partner_id is None:
        raise InvalidInput("a module delivered by a volunteer organisation names that organisation")
    if delivered_by is ModuleDelivery.LIBRARY and provider_partner_id is not None:
        raise InvalidInput("a module the library delivers itself names no provider")


# Who may take part in training: anyone on their way in or in service, not those who left.
TRAINABLE = frozenset(
    {VolunteerStatus.INTAKE, VolunteerStatus.SCREENING, VolunteerStatus.ACTIVE, VolunteerStatus.INACTIVE}
)


@dataclass(frozen=True)
class Attendance:
    attended: bool
    completed: bool


def check_attendance(status: VolunteerStatus, attendance: Attendance) -> None:
    if attendance.completed and not attendance.attended:
        raise InvalidInput("a module is completed only by someone who attended")
    if status not in TRAINABLE:
        raise Conflict(f"a volunteer who is {status.value} takes part in no training", state=status.value)


def lasts_longer(new_valid_until: date | None, held_valid_until: date | None) -> bool:
    """Whether a new grant of a qualification is worth having over the one held (no expiry lasts longest)."""
    if new_valid_until is None:
        return True
    return held_valid_until is not None and new_valid_until >= held_valid_until
