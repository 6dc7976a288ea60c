"""What an assignment needs (services/volunteers/domain/assignment.py): the requirements of role, course and
request, what a candidate lacks, targets and places. Unit tests: no servers."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from services.volunteers.domain import assignment
from services.volunteers.domain.assignment import Candidate, requirements
from shared.contracts.volunteers.events import AssignmentKind, VolunteerKind
from shared.errors import Conflict, InvalidInput
from tests.services.volunteers.domain_support import TODAY, S, received

# --- assignment ---------------------------------------------------------------------------------


def candidate(**overrides: object) -> Candidate:
    values: dict[str, object] = {
        "kind": VolunteerKind.VOLUNTEER,
        "status": S.ACTIVE,
        "certificates": [received(date(2026, 1, 1))],
        "qualifications": {"digital-guide": date(2027, 1, 1)},
        "internship": None,
    }
    values.update(overrides)
    return Candidate(**values)  # type: ignore[arg-type]


def test_requirements_combine_role_course_and_request_and_a_buddy_always_needs_a_certificate() -> None:
    course = requirements(
        AssignmentKind.COURSE,
        role_qualifications=["privacy"],
        opening_qualifications=["digital-guide"],
        extra_qualifications=["privacy"],
    )
    buddy = requirements(AssignmentKind.BUDDY)

    assert course.qualifications == ("digital-guide", "privacy")
    assert course.certificate_of_conduct is False
    assert buddy.certificate_of_conduct is True


@pytest.mark.parametrize(
    ("who", "needed", "missing"),
    [
        (candidate(), requirements(AssignmentKind.COURSE, opening_qualifications=["digital-guide"]), []),
        (candidate(status=S.SCREENING), requirements(AssignmentKind.COURSE), [("active", None)]),
        (
            candidate(qualifications={}),
            requirements(AssignmentKind.COURSE, opening_qualifications=["digital-guide"]),
            [("qualification", "digital-guide")],
        ),
        (
            candidate(qualifications={"digital-guide": date(2026, 11, 28)}),
            requirements(AssignmentKind.COURSE, opening_qualifications=["digital-guide"]),
            [("qualification", "digital-guide")],
        ),
        (candidate(certificates=[]), requirements(AssignmentKind.BUDDY), [("certificate_of_conduct", None)]),
        (
            candidate(kind=VolunteerKind.INTERN, internship=(date(2026, 1, 1), date(2026, 6, 30))),
            requirements(AssignmentKind.COURSE),
            [("internship_period", None)],
        ),
        (
            candidate(status=S.INACTIVE, certificates=[], qualifications={}),
            requirements(AssignmentKind.BUDDY, extra_qualifications=["language-buddy"]),
            [("active", None), ("certificate_of_conduct", None), ("qualification", "language-buddy")],
        ),
    ],
    ids=[
        "all-there",
        "not-active",
        "unqualified",
        "qualification-expired",
        "no-certificate",
        "outside-internship",
        "all-missing",
    ],
)
def test_missing_requirements_name_each_thing_that_lacks(
    who: Candidate, needed: assignment.Requirements, missing: list[tuple[str, str | None]]
) -> None:
    found = assignment.missing_requirements(who, needed, assignment.Period(TODAY))

    assert [(m.requirement, m.qualification) for m in found] == missing


def test_the_refusal_says_which_requirement_is_missing() -> None:
    who = candidate(qualifications={"digital-guide": date(2026, 1, 1)})
    with pytest.raises(Conflict, match=r"qualification digital-guide expired \(valid until 2026-01-01\)") as raised:
        assignment.check_assignable(
            uuid4(),
            who,
            requirements(AssignmentKind.COURSE, opening_qualifications=["digital-guide"]),
            assignment.Period(TODAY),
        )
    assert raised.value.extra["missing"] == [
        {
            "requirement": "qualification",
            "qualification": "digital-guide",
            "detail": "qualification digital-guide expired (valid until 2026-01-01)",
        }
    ]


def test_assignment_targets_and_places() -> None:
    with pytest.raises(InvalidInput):
        assignment.check_target(AssignmentKind.COURSE, opening_id=None, participant_pseudonym=None)
    with pytest.raises(InvalidInput):
        assignment.check_target(AssignmentKind.BUDDY, opening_id=uuid4(), participant_pseudonym="P-ABCD")
    with pytest.raises(InvalidInput):
        assignment.check_target(AssignmentKind.BUDDY, opening_id=None, participant_pseudonym=None)
    assignment.check_target(AssignmentKind.BUDDY, opening_id=None, participant_pseudonym=None, referral_id=uuid4())
    with pytest.raises(Conflict):
        assignment.check_places(2, 2)
    assignment.check_places(2, 1)
