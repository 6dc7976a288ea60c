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
    check_not_past_end,
    check_partner_may_start_partnership,
    check_partnership_dates,
    distinct,
    ended_by_date,
    review_due,
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
    (PartnershipStatus.ACTIVE, PartnershipStep.SUSPEND, PartnershipStatus.SUSPENDED),
    (PartnershipStatus.ACTIVE, PartnershipStep.END, PartnershipStatus.ENDED),
    (PartnershipStatus.SUSPENDED, PartnershipStep.RESUME, PartnershipStatus.ACTIVE),
    (PartnershipStatus.SUSPENDED, PartnershipStep.END, PartnershipStatus.ENDED),
]


def test_the_partnership_table_is_exactly_the_expected_lifecycle() -> None:
    assert {(status, step): after for status, step, after in PARTNERSHIP_STEPS} == PARTNERSHIP_TRANSITIONS


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
        (PartnershipStatus.SUSPENDED, date(2026, 3, 31), True),  # a pause does not stretch the agreement
        (PartnershipStatus.DRAFT, date(2026, 3, 31), False),
    ],
)
def test_a_partnership_ends_by_itself_after_its_last_day(
    status: PartnershipStatus, ends_on: date | None, lapsed: bool
) -> None:
    assert ended_by_date(status, ends_on, today=date(2026, 4, 1)) is lapsed


@pytest.mark.parametrize("step", [PartnershipStep.ACTIVATE, PartnershipStep.RESUME])
def test_an_agreement_past_its_end_date_is_not_put_in_force(step: PartnershipStep) -> None:
    with pytest.raises(Conflict, match="ended on 2026-03-31") as refused:
        check_not_past_end(date(2026, 3, 31), date(2026, 4, 1), step)
    assert refused.value.extra == {"ends_on": "2026-03-31"}
    check_not_past_end(date(2026, 4, 1), date(2026, 4, 1), step)  # its last day
    check_not_past_end(None, date(2026, 4, 1), step)


@pytest.mark.parametrize(
    ("status", "review_on", "reminded_for", "due"),
    [
        (PartnershipStatus.ACTIVE, date(2026, 4, 1), None, True),  # today
        (PartnershipStatus.SUSPENDED, date(2026, 3, 1), None, True),
        (PartnershipStatus.ACTIVE, date(2026, 4, 2), None, False),  # not yet
        (PartnershipStatus.ACTIVE, date(2026, 4, 1), date(2026, 4, 1), False),  # reminded once for this date
        (PartnershipStatus.ACTIVE, date(2026, 4, 1), date(2025, 4, 1), True),  # a new date after last year's
        (PartnershipStatus.DRAFT, date(2026, 4, 1), None, False),
        (PartnershipStatus.ENDED, date(2026, 4, 1), None, False),
        (PartnershipStatus.ACTIVE, None, None, False),
    ],
)
def test_a_review_that_falls_due_reminds_once_per_date(
    status: PartnershipStatus, review_on: date | None, reminded_for: date | None, due: bool
) -> None:
    assert review_due(status, review_on, reminded_for, today=date(2026, 4, 1)) is due


def test_roles_are_a_set_in_the_order_given() -> None:
    roles = [PartnershipRole.REFERRER, PartnershipRole.COURSE_PROVIDER, PartnershipRole.REFERRER]
    assert distinct(roles) == [PartnershipRole.REFERRER, PartnershipRole.COURSE_PROVIDER]
