"""Volunteer rules that depend on dates, without servers: requirements checked for the assignment's own days
(not today), the days and totals of hours, and how long a certificate of conduct counts and how old it may be."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.volunteers.domain import assignment, hours, screening
from services.volunteers.domain.assignment import Candidate, Period, requirements
from services.volunteers.domain.screening import Certificate
from shared.contracts.volunteers.api.volunteers import VolunteerStatus
from shared.contracts.volunteers.events import AssignmentKind, VolunteerKind
from shared.errors import Conflict, IllegalTransition, InvalidInput

TODAY = date(2026, 11, 29)
GUIDE = requirements(AssignmentKind.COURSE, opening_qualifications=["digital-guide"])


def volunteer(valid_until: date | None = date(2027, 1, 31), **overrides: object) -> Candidate:
    values: dict[str, object] = {
        "kind": VolunteerKind.VOLUNTEER,
        "status": VolunteerStatus.ACTIVE,
        "certificates": [Certificate(requested_at=datetime(2026, 1, 1, tzinfo=UTC), issued_on=date(2026, 1, 2))],
        "qualifications": {"digital-guide": valid_until},
    }
    values.update(overrides)
    return Candidate(**values)  # type: ignore[arg-type]


def missing(who: Candidate, period: Period, needed: assignment.Requirements = GUIDE) -> list[str]:
    return [m.detail for m in assignment.missing_requirements(who, needed, period)]


# --- requirements on the assignment's days --------------------------------------------------------


def test_a_qualification_valid_today_but_expired_when_the_assignment_starts_is_missing() -> None:
    starting_after_expiry = Period(date(2027, 2, 1))

    assert missing(volunteer(), Period(TODAY)) == []
    assert missing(volunteer(), starting_after_expiry) == [
        "qualification digital-guide expired (valid until 2027-01-31)"
    ]


def test_a_qualification_must_hold_to_the_assignments_last_day_where_one_is_set() -> None:
    past_the_expiry = Period(TODAY, date(2027, 3, 31))

    assert missing(volunteer(), past_the_expiry) == [
        "qualification digital-guide expires before the assignment ends (valid until 2027-01-31)"
    ]
    assert missing(volunteer(), Period(TODAY, date(2027, 1, 31))) == []
    assert missing(volunteer(valid_until=None), past_the_expiry) == []


def test_an_assignment_without_a_start_date_starts_the_day_it_is_made() -> None:
    assert assignment.period_of(None, None, TODAY) == Period(TODAY)
    assert assignment.period_of(date(2027, 1, 4), date(2027, 6, 30), TODAY) == Period(
        date(2027, 1, 4), date(2027, 6, 30)
    )


@pytest.mark.parametrize(
    ("period", "inside"),
    [
        (Period(date(2026, 9, 1), date(2027, 1, 29)), True),
        (Period(date(2026, 12, 1)), True),  # open-ended: it ends with the internship
        (Period(date(2026, 12, 1), date(2027, 3, 1)), False),  # runs past the internship's end
        (Period(date(2026, 8, 15), date(2026, 12, 1)), False),  # starts before the internship
        (Period(date(2027, 2, 1)), False),  # starts after the internship
    ],
    ids=["inside", "open-ended", "past-the-end", "before-the-start", "after-the-end"],
)
def test_an_internship_must_cover_the_assignment_from_first_to_last_day(period: Period, inside: bool) -> None:
    intern = volunteer(kind=VolunteerKind.INTERN, internship=(date(2026, 9, 1), date(2027, 1, 29)))

    found = missing(intern, period, requirements(AssignmentKind.COURSE))

    assert found == (
        [] if inside else [f"the assignment ({period}) runs outside the internship period 2026-09-01 to 2027-01-29"]
    )


def test_the_certificate_of_conduct_must_count_on_the_first_day() -> None:
    expiring = [
        Certificate(
            requested_at=datetime(2026, 1, 1, tzinfo=UTC), issued_on=date(2026, 1, 2), valid_until=date(2026, 12, 31)
        )
    ]
    buddy = requirements(AssignmentKind.BUDDY)

    assert missing(volunteer(certificates=expiring), Period(TODAY), buddy) == []
    assert missing(volunteer(certificates=expiring), Period(date(2027, 1, 4)), buddy) == [
        "the certificate of conduct was valid until 2026-12-31"
    ]


# --- hours ---------------------------------------------------------------------------------------


def test_hours_count_from_the_assignments_start_or_else_the_day_it_was_made() -> None:
    assert hours.first_day(None, date(2026, 11, 2)) == date(2026, 11, 2)
    assert hours.first_day(date(2026, 10, 1), date(2026, 11, 2)) == date(2026, 10, 1)
    assert hours.last_day(None, None) is None
    assert hours.last_day(date(2026, 12, 31), date(2026, 11, 20)) == date(2026, 11, 20)


@pytest.mark.parametrize(
    ("worked_on", "error"),
    [
        (date(2026, 11, 30), "not in advance"),
        (date(2026, 10, 31), "before the assignment started"),
        (date(2026, 11, 1), None),
        (TODAY, None),
    ],
)
def test_hours_are_logged_for_days_the_assignment_ran_and_not_ahead(worked_on: date, error: str | None) -> None:
    if error is None:
        hours.check_day(worked_on, TODAY, date(2026, 11, 1), None)
    else:
        with pytest.raises(InvalidInput, match=error):
            hours.check_day(worked_on, TODAY, date(2026, 11, 1), None)
    with pytest.raises(InvalidInput, match="after the assignment ended"):
        hours.check_day(TODAY, TODAY, date(2026, 11, 1), date(2026, 11, 28))


def test_a_volunteer_works_at_most_24_hours_on_a_day_over_all_assignments() -> None:
    hours.check_day_total(TODAY, 0, 24 * 60)
    hours.check_day_total(TODAY, 1000, 440)
    with pytest.raises(Conflict) as raised:
        hours.check_day_total(TODAY, 1000, 1000)
    assert raised.value.extra == {"worked_on": "2026-11-29", "minutes_logged": 1000, "minutes_left": 440}


def test_a_removed_entry_is_neither_corrected_nor_removed_again() -> None:
    hours.check_not_removed(None, "corrected")
    with pytest.raises(IllegalTransition, match="removed hours entry cannot be corrected"):
        hours.check_not_removed(datetime(2026, 11, 29, tzinfo=UTC), "corrected")
    assert hours.month_of(date(2026, 3, 9)) == "2026-03"


def test_an_assignment_starting_before_the_certificate_was_issued_says_so() -> None:
    issued_today = [Certificate(requested_at=datetime(2026, 11, 1, tzinfo=UTC), issued_on=TODAY)]

    found = missing(volunteer(certificates=issued_today), Period(date(2026, 11, 1)), requirements(AssignmentKind.BUDDY))

    assert found == ["the certificate of conduct was issued on 2026-11-29, after 2026-11-01"]


# --- certificates of conduct ---------------------------------------------------------------------

REQUESTED = [Certificate(requested_at=datetime(2026, 11, 2, 9, tzinfo=UTC))]


def test_a_certificate_without_an_end_counts_for_the_librarys_validity() -> None:
    policy = screening.ScreeningPolicy(validity_months=24, max_age_months=3)

    assert screening.counts_until(date(2026, 11, 20), None, policy) == date(2028, 11, 19)
    assert screening.counts_until(date(2026, 11, 20), date(2027, 5, 1), policy) == date(2027, 5, 1)
    assert screening.counts_until(date(2026, 11, 20), None, screening.DEFAULT_SCREENING) == date(2029, 11, 19)


@pytest.mark.parametrize(
    ("issued_on", "max_age_months", "accepted"),
    [
        (date(2026, 11, 20), 3, True),  # issued after the request, as usual
        (date(2026, 8, 2), 3, True),  # three months before: just recent enough
        (date(2026, 8, 1), 3, False),
        (date(2025, 3, 1), 3, False),  # dug out of a drawer
        (date(2026, 10, 1), 1, False),  # a stricter library
    ],
)
def test_a_certificate_issued_long_before_it_was_requested_is_refused(
    issued_on: date, max_age_months: int, accepted: bool
) -> None:
    policy = screening.ScreeningPolicy(validity_months=36, max_age_months=max_age_months)

    def receive() -> None:
        screening.check_receipt(REQUESTED, issued_on, None, TODAY, requested_on=date(2026, 11, 2), policy=policy)

    if accepted:
        receive()
    else:
        with pytest.raises(InvalidInput, match=f"more than {max_age_months} months before it was requested"):
            receive()
