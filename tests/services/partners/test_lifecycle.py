"""The lifecycles of partners and partnerships as tables: every legal step, and every other step refused."""

from __future__ import annotations

from datetime import date
from itertools import product

import pytest

from services.partners.domain.lifecycle import (
    PARTNER_TRANSITIONS,
    PARTNERSHIP_TRANSITIONS,
    apply_partner_step,
    apply_partnership_step,
    check_partner_may_start_partnership,
    check_partnership_dates,
    distinct,
    ended_by_date,
)
from shared.contracts.partners.api.organisations import PartnerStatus, PartnerStep
from shared.contracts.partners.api.partnerships import PartnershipRole, PartnershipStatus, PartnershipStep
from shared.errors import Conflict, IllegalTransition, InvalidInput

PARTNER_STEPS = [
    (PartnerStatus.ACTIVE, PartnerStep.SUSPEND, PartnerStatus.SUSPENDED),
    (PartnerStatus.ACTIVE, PartnerStep.END, PartnerStatus.ENDED),
    (PartnerStatus.SUSPENDED, PartnerStep.REACTIVATE, PartnerStatus.ACTIVE),
    (PartnerStatus.SUSPENDED, PartnerStep.END, PartnerStatus.ENDED),
]


@pytest.mark.parametrize(("status", "step", "after"), PARTNER_STEPS)
def test_legal_partner_steps(status: PartnerStatus, step: PartnerStep, after: PartnerStatus) -> None:
    assert apply_partner_step(status, step) is after


ILLEGAL_PARTNER_STEPS = [
    (status, step) for status, step in product(PartnerStatus, PartnerStep) if (status, step) not in PARTNER_TRANSITIONS
]


@pytest.mark.parametrize(("status", "step"), ILLEGAL_PARTNER_STEPS)
def test_every_other_partner_step_is_refused_naming_state_and_step(status: PartnerStatus, step: PartnerStep) -> None:
    with pytest.raises(IllegalTransition, match=f"a partner that is {status.value} cannot {step.value}") as refused:
        apply_partner_step(status, step)
    assert refused.value.extra == {"state": status.value, "step": step.value}


def test_an_ended_partner_is_final() -> None:
    assert [step for step in PartnerStep if (PartnerStatus.ENDED, step) in PARTNER_TRANSITIONS] == []


PARTNERSHIP_STEPS = [
    (PartnershipStatus.DRAFT, PartnershipStep.ACTIVATE, PartnershipStatus.ACTIVE),
    (PartnershipStatus.DRAFT, PartnershipStep.END, PartnershipStatus.ENDED),
    (PartnershipStatus.ACTIVE, PartnershipStep.END, PartnershipStatus.ENDED),
]


@pytest.mark.parametrize(("status", "step", "after"), PARTNERSHIP_STEPS)
def test_legal_partnership_steps(status: PartnershipStatus, step: PartnershipStep, after: PartnershipStatus) -> None:
    assert apply_partnership_step(status, step) is after


@pytest.mark.parametrize(
    ("status", "step"),
    [(s, p) for s, p in product(PartnershipStatus, PartnershipStep) if (s, p) not in PARTNERSHIP_TRANSITIONS],
)
def test_every_other_partnership_step_is_refused(status: PartnershipStatus, step: PartnershipStep) -> None:
    with pytest.raises(IllegalTransition, match=f"a partnership that is {status.value} cannot {step.value}"):
        apply_partnership_step(status, step)


@pytest.mark.parametrize("status", [PartnerStatus.SUSPENDED, PartnerStatus.ENDED])
def test_only_an_active_partner_starts_a_partnership(status: PartnerStatus) -> None:
    check_partner_may_start_partnership(PartnerStatus.ACTIVE)
    with pytest.raises(Conflict, match=status.value):
        check_partner_may_start_partnership(status)


@pytest.mark.parametrize(
    ("ends_on", "review_on", "valid"),
    [
        (None, None, True),
        (date(2026, 12, 31), date(2026, 6, 1), True),
        (date(2026, 1, 1), None, True),  # a one-day partnership
        (date(2025, 12, 31), None, False),
        (None, date(2025, 12, 1), False),
    ],
)
def test_partnership_dates(ends_on: date | None, review_on: date | None, valid: bool) -> None:
    starts_on = date(2026, 1, 1)
    if valid:
        check_partnership_dates(starts_on, ends_on, review_on)
    else:
        with pytest.raises(InvalidInput):
            check_partnership_dates(starts_on, ends_on, review_on)


@pytest.mark.parametrize(
    ("status", "ends_on", "lapsed"),
    [
        (PartnershipStatus.ACTIVE, date(2026, 3, 31), True),
        (PartnershipStatus.ACTIVE, date(2026, 4, 1), False),  # its last day is today
        (PartnershipStatus.ACTIVE, None, False),
        (PartnershipStatus.DRAFT, date(2026, 3, 31), False),
    ],
)
def test_a_partnership_ends_by_itself_after_its_last_day(
    status: PartnershipStatus, ends_on: date | None, lapsed: bool
) -> None:
    assert ended_by_date(status, ends_on, today=date(2026, 4, 1)) is lapsed


def test_roles_are_a_set_in_the_order_given() -> None:
    roles = [PartnershipRole.REFERRER, PartnershipRole.COURSE_PROVIDER, PartnershipRole.REFERRER]
    assert distinct(roles) == [PartnershipRole.REFERRER, PartnershipRole.COURSE_PROVIDER]
