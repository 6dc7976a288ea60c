"""The lifecycles of a partner and of a partnership, as tables of legal transitions, and their rules. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import TypeVar

from shared.contracts.partners.api.organisations import PartnerStatus, PartnerStep
from shared.contracts.partners.api.partnerships import PartnershipStatus, PartnershipStep
from shared.errors import Conflict, IllegalTransition, InvalidInput

P = PartnerStatus
PARTNER_TRANSITIONS: dict[tuple[PartnerStatus, PartnerStep], PartnerStatus] = {
    (P.ACTIVE, PartnerStep.SUSPEND): P.SUSPENDED,
    (P.ACTIVE, PartnerStep.END): P.ENDED,
    (P.SUSPENDED, PartnerStep.REACTIVATE): P.ACTIVE,
    (P.SUSPENDED, PartnerStep.END): P.ENDED,
}

S = PartnershipStatus
PARTNERSHIP_TRANSITIONS: dict[tuple[PartnershipStatus, PartnershipStep], PartnershipStatus] = {
    (S.DRAFT, PartnershipStep.ACTIVATE): S.ACTIVE,
    (S.DRAFT, PartnershipStep.END): S.ENDED,  # a draft that never started
    (S.ACTIVE, PartnershipStep.SUSPEND): S.SUSPENDED,
    (S.ACTIVE, PartnershipStep.END): S.ENDED,
    (S.SUSPENDED, PartnershipStep.RESUME): S.ACTIVE,
    (S.SUSPENDED, PartnershipStep.END): S.ENDED,
}
# The partnership is in force (the partner acts in its roles) in these; a suspended one still runs to its end date.
IN_FORCE: frozenset[PartnershipStatus] = frozenset({S.ACTIVE})
RUNNING: frozenset[PartnershipStatus] = frozenset({S.ACTIVE, S.SUSPENDED})


def apply_partner_step(status: PartnerStatus, step: PartnerStep) -> PartnerStatus:
    try:
        return PARTNER_TRANSITIONS[(status, step)]
    except KeyError:
        raise IllegalTransition(
            f"a partner that is {status.value} cannot {step.value}", state=status.value, step=step.value
        ) from None


def apply_partnership_step(status: PartnershipStatus, step: PartnershipStep) -> PartnershipStatus:
    try:
        return PARTNERSHIP_TRANSITIONS[(status, step)]
    except KeyError:
        raise IllegalTransition(
            f"a partnership that is {status.value} cannot {step.value}", state=status.value, step=step.value
        ) from None


def check_partner_may_start_partnership(partner_status: PartnerStatus) -> None:
    if partner_status is not PartnerStatus.ACTIVE:
        raise Conflict(f"a partner that is {partner_status.value} cannot start a partnership")


def check_partnership_dates(starts_on: date, ends_on: date | None, review_on: date | None) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput(f"a partnership cannot end ({ends_on}) before it starts ({starts_on})")
    if review_on is not None and review_on < starts_on:
        raise InvalidInput(f"a partnership cannot be reviewed ({review_on}) before it starts ({starts_on})")


def check_partnership_may_change(status: PartnershipStatus) -> None:
    if status is PartnershipStatus.ENDED:
        raise IllegalTransition("an ended partnership cannot be changed", state=status.value, step="update")


def check_not_past_end(ends_on: date | None, today: date, step: PartnershipStep) -> None:
    """An agreement whose last day has passed is over: it is not put in force again (draft a new one)."""
    if ends_on is not None and ends_on < today:
        raise Conflict(
            f"the partnership ended on {ends_on.isoformat()}: it cannot {step.value}; agree a new one "
            "(or a later end date first)",
            ends_on=ends_on.isoformat(),
        )


def ended_by_date(status: PartnershipStatus, ends_on: date | None, today: date) -> bool:
    """A running (active or suspended) partnership whose last day has passed ends by itself."""
    return status in RUNNING and ends_on is not None and ends_on < today


def review_due(status: PartnershipStatus, review_on: date | None, reminded_for: date | None, today: date) -> bool:
    """A running partnership whose review date has come reminds the library once for that date."""
    return status in RUNNING and review_on is not None and review_on <= today and reminded_for != review_on


E = TypeVar("E", bound=StrEnum)


def distinct(values: Iterable[E]) -> list[E]:
    """Each value once, in the order given: roles, contributions and skill areas are sets."""
    return list(dict.fromkeys(values))
