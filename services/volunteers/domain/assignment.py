"""Assignment: who may be assigned (active, screened where required, qualified) and what is missing if not."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from services.volunteers.domain.screening import Certificate, certificate_problem
from services.volunteers.domain.training import holds_on
from shared.contracts.volunteers.api.volunteers import VolunteerStatus
from shared.contracts.volunteers.events import AssignmentKind, VolunteerKind
from shared.errors import Conflict, InvalidInput


@dataclass(frozen=True)
class Candidate:
    """What the check needs to know of a volunteer or intern."""

    kind: VolunteerKind
    status: VolunteerStatus
    certificates: Sequence[Certificate]
    qualifications: Mapping[str, date | None]  # code → last valid day (None: does not expire)
    internship: tuple[date, date] | None = None  # the period, for interns


@dataclass(frozen=True)
class Requirements:
    qualifications: tuple[str, ...]
    certificate_of_conduct: bool


def requirements(
    kind: AssignmentKind,
    *,
    role_qualifications: Iterable[str] = (),
    role_certificate: bool = False,
    opening_qualifications: Iterable[str] = (),
    opening_certificate: bool = False,
    extra_qualifications: Iterable[str] = (),
) -> Requirements:
    """What the role (vacancy or internship), the course and the request ask, together.

    A buddy is alone with a participant, so a buddy always needs a valid certificate of conduct.
    """
    codes = {*role_qualifications, *opening_qualifications, *extra_qualifications}
    certificate = role_certificate or opening_certificate or kind is AssignmentKind.BUDDY
    return Requirements(qualifications=tuple(sorted(codes)), certificate_of_conduct=certificate)


@dataclass(frozen=True)
class Missing:
    requirement: str  # active | internship_period | certificate_of_conduct | qualification
    detail: str
    qualification: str | None = None

    def as_builtins(self) -> dict[str, Any]:
        found: dict[str, Any] = {"requirement": self.requirement, "detail": self.detail}
        if self.qualification is not None:
            found["qualification"] = self.qualification
        return found


@dataclass(frozen=True)
class Period:
    """The days an assignment runs: from its first day, to its last where one is set (None: until ended)."""

    first_day: date
    last_day: date | None = None

    def __str__(self) -> str:
        return f"{self.first_day} to {self.last_day}" if self.last_day else f"from {self.first_day}"


def period_of(starts_on: date | None, ends_on: date | None, today: date) -> Period:
    """An assignment without a start date starts the day it is made."""
    return Period(starts_on or today, ends_on)


def missing_requirements(candidate: Candidate, needed: Requirements, period: Period) -> list[Missing]:
    """What lacks for the assignment's own days, not for today: the status is what it is now; the internship must
    cover the assignment; the certificate of conduct must count on its first day; a qualification must hold on
    its last day where one is set (else on its first day: an open assignment ends if the qualification expires,
    and the expiry is a training need before that)."""
    missing: list[Missing] = []
    if candidate.status is not VolunteerStatus.ACTIVE:
        missing.append(Missing("active", f"the {candidate.kind.value} is {candidate.status.value}, not active"))
    if candidate.internship is not None:
        starts_on, ends_on = candidate.internship
        last_day = period.last_day or period.first_day
        if not (starts_on <= period.first_day and last_day <= ends_on):
            missing.append(
                Missing(
                    "internship_period",
                    f"the assignment ({period}) runs outside the internship period {starts_on} to {ends_on}",
                )
            )
    if needed.certificate_of_conduct:
        problem = certificate_problem(candidate.certificates, period.first_day)
        if problem is not None:
            missing.append(Missing("certificate_of_conduct", problem))
    held_until = period.last_day or period.first_day
    for code in needed.qualifications:
        if code not in candidate.qualifications:
            missing.append(Missing("qualification", f"qualification {code} is missing", code))
        elif not holds_on(candidate.qualifications[code], held_until):
            until = candidate.qualifications[code]
            if until is not None and until < period.first_day:
                detail = f"qualification {code} expired (valid until {until})"
            else:
                detail = f"qualification {code} expires before the assignment ends (valid until {until})"
            missing.append(Missing("qualification", detail, code))
    return missing


def check_assignable(volunteer_id: UUID, candidate: Candidate, needed: Requirements, period: Period) -> None:
    missing = missing_requirements(candidate, needed, period)
    if missing:
        raise Conflict(
            f"{candidate.kind.value} {volunteer_id} cannot be assigned: " + "; ".join(m.detail for m in missing),
            missing=[m.as_builtins() for m in missing],
        )


def check_target(
    kind: AssignmentKind, *, opening_id: UUID | None, participant_pseudonym: str | None, referral_id: UUID | None = None
) -> None:
    named_participant = participant_pseudonym is not None or referral_id is not None
    if kind is AssignmentKind.COURSE and (opening_id is None or named_participant):
        raise InvalidInput("a course assignment names the open assignment (opening_id) and no participant")
    if kind is AssignmentKind.BUDDY and (not named_participant or opening_id is not None):
        raise InvalidInput("a buddy assignment names the participant (by pseudonym or referral) and no course")


def check_period(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise InvalidInput("an assignment cannot end before it starts")


def check_places(volunteers_needed: int, assigned: int) -> None:
    if assigned >= volunteers_needed:
        raise Conflict(
            f"the course needs {volunteers_needed} volunteers and has them all",
            volunteers_needed=volunteers_needed,
            assigned=assigned,
        )
