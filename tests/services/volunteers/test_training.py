"""Qualifications and training modules (services/volunteers/domain/training.py): how long a qualification holds,
which grant wins, a bought module's name and providers, what completion needs. Unit tests: no servers."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from services.volunteers.domain import training
from shared.contracts.volunteers.events import ModuleDelivery
from shared.errors import Conflict, InvalidInput
from tests.services.volunteers.domain_support import S

# --- qualifications -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),
        (date(2026, 3, 10), 24, date(2028, 3, 10)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(day: date, months: int, expected: date) -> None:
    assert training.add_months(day, months) == expected


def test_a_qualification_holds_until_the_day_before_its_anniversary_or_for_ever() -> None:
    assert training.qualification_valid_until(date(2020, 1, 10), 12) == date(2021, 1, 9)
    assert training.qualification_valid_until(date(2020, 1, 10), None) is None
    assert training.holds_on(date(2021, 1, 9), date(2021, 1, 9))
    assert not training.holds_on(date(2021, 1, 9), date(2021, 1, 10))
    assert training.holds_on(None, date(2099, 1, 1))


@pytest.mark.parametrize(
    ("new", "held", "better"),
    [
        (None, date(2027, 1, 1), True),
        (date(2028, 1, 1), date(2027, 1, 1), True),
        (date(2026, 1, 1), date(2027, 1, 1), False),
        (date(2030, 1, 1), None, False),
    ],
)
def test_a_new_grant_replaces_the_held_one_only_when_it_lasts_longer(
    new: date | None, held: date | None, better: bool
) -> None:
    assert training.lasts_longer(new, held) is better


@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("Laaggeletterdheid herkennen", "laaggeletterdheid-herkennen"),
        ("Privacy & AVG!", "privacy-avg"),
        ("Café-tafel Één", "cafe-tafel-een"),
        ("?", "training"),
    ],
)
def test_a_bought_module_is_named_after_its_title(title: str, code: str) -> None:
    assert training.qualification_code(title) == code


def test_module_providers_match_how_it_is_delivered() -> None:
    with pytest.raises(InvalidInput):
        training.check_provider(ModuleDelivery.VOLUNTEER_ORGANISATION, None)
    with pytest.raises(InvalidInput):
        training.check_provider(ModuleDelivery.LIBRARY, uuid4())
    with pytest.raises(InvalidInput, match="courses service"):
        training.check_provider(ModuleDelivery.PURCHASE, None)
    training.check_provider(ModuleDelivery.LIBRARY, None)


def test_completion_needs_attendance_and_someone_still_in_the_pipeline() -> None:
    with pytest.raises(InvalidInput):
        training.check_attendance(S.ACTIVE, training.Attendance(attended=False, completed=True))
    with pytest.raises(Conflict):
        training.check_attendance(S.WITHDRAWN, training.Attendance(attended=True, completed=True))
    training.check_attendance(S.SCREENING, training.Attendance(attended=True, completed=True))
