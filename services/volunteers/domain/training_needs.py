"""Training needs: which volunteers of a library need a qualification (renewed or obtained), by when, and
whether that changed since the need was last published. Pure: callers pass the day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from shared.contracts.volunteers.api.volunteers import VolunteerStatus

# A qualification that runs out within two months needs renewing now: a training takes that long to buy,
# plan and give. One that ran out already counts as well, as long as its holder is still in service.
EXPIRY_HORIZON_DAYS = 60
# An assignment refused for lack of a qualification: the training is wanted within a month.
REFUSAL_LEAD_DAYS = 30
# Whose training counts: volunteers in service or on their way in. One who is inactive (or left) guides
# nobody now; if they come back, the next review counts them again.
IN_SERVICE = frozenset({VolunteerStatus.INTAKE, VolunteerStatus.SCREENING, VolunteerStatus.ACTIVE})


def horizon(today: date) -> date:
    return today + timedelta(days=EXPIRY_HORIZON_DAYS)


@dataclass(frozen=True)
class Holder:
    """A volunteer in service who holds the qualification, and its last valid day (None: it does not expire)."""

    volunteer_id: UUID
    valid_until: date | None


@dataclass(frozen=True)
class Refusal:
    """A volunteer in service refused an assignment for lack of the qualification on `refused_on`."""

    volunteer_id: UUID
    refused_on: date
    holds: bool = False  # holds it now
    valid_until: date | None = None  # if held: its last valid day (None: it does not expire)


@dataclass(frozen=True)
class NeedFigures:
    volunteers: int
    expiring: int
    refused: int
    needed_by: date


def assess(holders: Iterable[Holder], refusals: Iterable[Refusal], today: date) -> NeedFigures | None:
    """Who needs the training and by when; None when nobody does.

    A holder counts when the qualification runs out by the horizon; a refused volunteer counts until they
    hold it past the horizon. Someone who is both counts once. The need is due on the earliest last valid day
    (or a refusal's lead time), even when that has passed: a date that moved with today would change the need,
    and publish it again, every day.
    """
    until = horizon(today)
    due: dict[UUID, date] = {}
    expiring: set[UUID] = set()
    refused: set[UUID] = set()
    for holder in holders:
        if holder.valid_until is not None and holder.valid_until <= until:
            expiring.add(holder.volunteer_id)
            due[holder.volunteer_id] = min(due.get(holder.volunteer_id, holder.valid_until), holder.valid_until)
    for refusal in refusals:
        if refusal.holds and (refusal.valid_until is None or refusal.valid_until > until):
            continue  # qualified since: no longer in need
        refused.add(refusal.volunteer_id)
        wanted = refusal.refused_on + timedelta(days=REFUSAL_LEAD_DAYS)
        due[refusal.volunteer_id] = min(due.get(refusal.volunteer_id, wanted), wanted)
    if not due:
        return None
    return NeedFigures(volunteers=len(due), expiring=len(expiring), refused=len(refused), needed_by=min(due.values()))


def differs(figures: NeedFigures, volunteers: int, expiring: int, refused: int, needed_by: date) -> bool:
    """Whether the published need says something else: only then is it published again (no spam)."""
    return (figures.volunteers, figures.expiring, figures.refused, figures.needed_by) != (
        volunteers,
        expiring,
        refused,
        needed_by,
    )


def months_between(obtained_on: date, valid_until: date) -> int:
    """The validity a grant had, in whole months (a year's grant runs to the day before: 12)."""
    last = valid_until + timedelta(days=1)
    return max(1, (last.year - obtained_on.year) * 12 + last.month - obtained_on.month)


def validity_months(of_modules: Iterable[int | None], of_grants: Iterable[tuple[date, date]]) -> int | None:
    """How long the qualification holds once renewed: as the library's own modules say (the longest), else as
    its last grants held (the most common), else unknown (a bought module then gives it without expiry)."""
    modules = [months for months in of_modules if months is not None]
    if modules:
        return max(modules)
    grants = [months_between(obtained, until) for obtained, until in of_grants]
    if grants:
        return max(set(grants), key=grants.count)
    return None
