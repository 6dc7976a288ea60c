"""The offer's rules (services/courses/domain/offer.py): course and session lifecycles, meetings and capacity, who
offers, sees and runs a course, where it is held, and who brings what to a partner's course. Unit tests: no
servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from services.courses.domain import offer
from services.courses.domain.offer import CourseScope, CourseStep, Offerer, SessionStep
from shared.contracts.courses.api.courses import CourseDetails, CourseStatus, Location, Meeting, SessionStatus
from shared.contracts.courses.events import Audience, CourseFormat, LibraryContribution, LocationKind
from shared.contracts.vocabulary import SkillArea
from shared.errors import Forbidden, IllegalTransition, InvalidInput
from shared.tenancy import Actor
from tests.services.courses.domain_support import (
    COORDINATOR,
    COORDINATOR_ELSEWHERE,
    LIBRARY,
    MUNICIPALITY,
    OPERATOR,
    OTHER_LIBRARY,
    OTHER_PARTNER,
    OTHER_PARTNER_ID,
    OTHER_STAFF,
    PARTNER,
    PARTNER_ID,
    STAFF,
    STAFF_ELSEWHERE,
    course,
    municipality_of,
    outcome,
)

# --- lifecycles, every pair of state and step ------------------------------------------------------

COURSE_LEGAL = {
    (CourseStatus.DRAFT, CourseStep.UPDATE): CourseStatus.DRAFT,
    (CourseStatus.DRAFT, CourseStep.PUBLISH): CourseStatus.PUBLISHED,
    (CourseStatus.DRAFT, CourseStep.CANCEL): CourseStatus.CANCELLED,
    (CourseStatus.DRAFT, CourseStep.SCHEDULE_SESSION): CourseStatus.DRAFT,
    (CourseStatus.PUBLISHED, CourseStep.UPDATE): CourseStatus.PUBLISHED,
    (CourseStatus.PUBLISHED, CourseStep.CANCEL): CourseStatus.CANCELLED,
    (CourseStatus.PUBLISHED, CourseStep.SCHEDULE_SESSION): CourseStatus.PUBLISHED,
    (CourseStatus.PUBLISHED, CourseStep.ENROL): CourseStatus.PUBLISHED,
}


@pytest.mark.parametrize("status", list(CourseStatus))
@pytest.mark.parametrize("step", list(CourseStep))
def test_course_lifecycle_allows_only_the_table(status: CourseStatus, step: CourseStep) -> None:
    if (status, step) in COURSE_LEGAL:
        assert offer.apply_course_step(status, step) is COURSE_LEGAL[(status, step)]
    else:
        with pytest.raises(IllegalTransition) as raised:
            offer.apply_course_step(status, step)
        assert raised.value.extra == {"state": status.value, "step": step.value}
        assert status.value in raised.value.detail


def test_a_draft_takes_no_enrolments_and_a_cancelled_course_nothing() -> None:
    with pytest.raises(IllegalTransition, match="draft cannot enrol"):
        offer.apply_course_step(CourseStatus.DRAFT, CourseStep.ENROL)
    with pytest.raises(IllegalTransition, match="cancelled cannot publish"):
        offer.apply_course_step(CourseStatus.CANCELLED, CourseStep.PUBLISH)


@pytest.mark.parametrize("status", list(SessionStatus))
@pytest.mark.parametrize("step", list(SessionStep))
def test_session_lifecycle_allows_only_the_table(status: SessionStatus, step: SessionStep) -> None:
    if status is SessionStatus.SCHEDULED:
        expected = SessionStatus.CANCELLED if step is SessionStep.CANCEL else SessionStatus.SCHEDULED
        assert offer.apply_session_step(status, step) is expected
    else:
        with pytest.raises(IllegalTransition):
            offer.apply_session_step(status, step)


def test_meetings_must_follow_each_other_and_end_after_they_start() -> None:
    start = datetime(2027, 3, 1, 10, tzinfo=UTC)
    first = Meeting(starts_at=start, ends_at=start + timedelta(hours=2))
    second = Meeting(starts_at=start + timedelta(days=7), ends_at=start + timedelta(days=7, hours=2))
    assert offer.check_meetings([first, second]) == (first.starts_at, second.ends_at)
    with pytest.raises(InvalidInput, match="meeting 1 ends before it starts"):
        offer.check_meetings([Meeting(starts_at=start, ends_at=start)])
    with pytest.raises(InvalidInput, match="meeting 2 starts before meeting 1 ends"):
        offer.check_meetings([first, Meeting(starts_at=start + timedelta(hours=1), ends_at=start + timedelta(hours=3))])


def test_capacity_cannot_drop_below_the_confirmed_places() -> None:
    offer.check_new_capacity(8, 8)
    with pytest.raises(InvalidInput, match="capacity 7 is below the 8 confirmed"):
        offer.check_new_capacity(7, 8)


# --- who offers, sees and runs a course ------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "library", "partner", "expected"),
    [
        (STAFF, None, None, Offerer(library=LIBRARY, offered_by_partner_id=None)),
        (STAFF, LIBRARY, PARTNER_ID, Offerer(library=LIBRARY, offered_by_partner_id=PARTNER_ID)),
        (PARTNER, None, None, Offerer(library=None, offered_by_partner_id=PARTNER_ID)),
        (PARTNER, LIBRARY, None, Offerer(library=LIBRARY, offered_by_partner_id=PARTNER_ID)),
        (STAFF, OTHER_LIBRARY, None, "Forbidden"),
        (PARTNER, None, OTHER_PARTNER_ID, "Forbidden"),
        (COORDINATOR, LIBRARY, None, "Forbidden"),
        (OPERATOR, None, None, "InvalidInput"),
    ],
    ids=[
        "staff-own",
        "staff-hosts-partner",
        "partner-own",
        "partner-in-library",
        "staff-other-library",
        "partner-for-another",
        "coordinator",
        "operator-without-offerer",
    ],
)
def test_who_offers_a_new_course(actor: Actor, library: str | None, partner: UUID | None, expected: Any) -> None:
    try:
        result: Any = offer.check_may_create_course(actor, library=library, offered_by_partner_id=partner)
    except (Forbidden, InvalidInput) as exc:
        result = type(exc).__name__
    assert result == expected


def test_library_and_partner_of_a_course_must_be_known_and_in_one_municipality() -> None:
    both = Offerer(library=LIBRARY, offered_by_partner_id=PARTNER_ID)
    assert offer.course_municipality(both, library_municipality="utrecht", partner_municipality="utrecht") == "utrecht"
    with pytest.raises(InvalidInput, match="not in the same municipality"):
        offer.course_municipality(both, library_municipality="utrecht", partner_municipality="amersfoort")
    with pytest.raises(InvalidInput, match="library centrale is not known"):
        offer.course_municipality(both, library_municipality=None, partner_municipality="utrecht")


def details(**overrides: Any) -> CourseDetails:
    values: dict[str, Any] = {
        "title": "Klik & Tik",
        "skill_area": SkillArea.DIGITAL,
        "audience": Audience.SENIORS,
        "format": CourseFormat.IN_PERSON,
        "location": Location(kind=LocationKind.LIBRARY_BRANCH, branch="Centrale", place="Utrecht"),
    }
    return CourseDetails(**(values | overrides))


KNOWN_HERE: dict[str, str | None] = {str(PARTNER_ID): MUNICIPALITY, str(OTHER_PARTNER_ID): "amersfoort"}
LIBRARY_COURSE = Offerer(library=LIBRARY, offered_by_partner_id=None)
HOSTED_PARTNER_COURSE = Offerer(library=LIBRARY, offered_by_partner_id=PARTNER_ID)


def check_details(course_details: CourseDetails, offerer: Offerer = LIBRARY_COURSE) -> Location:
    return offer.check_course_details(course_details, offerer, municipality=MUNICIPALITY, known_municipality=KNOWN_HERE)


def test_a_branch_location_is_the_library_that_offers_or_hosts_the_course() -> None:
    assert check_details(details()).library == LIBRARY
    wrong = details(location=Location(kind=LocationKind.LIBRARY_BRANCH, library=OTHER_LIBRARY))
    with pytest.raises(InvalidInput, match="held at library overvecht"):
        check_details(wrong)


def test_a_course_for_partner_staff_names_a_partner_of_the_municipality() -> None:
    training = details(audience=Audience.PARTNER_STAFF, audience_partner_id=PARTNER_ID)
    assert check_details(training).kind is LocationKind.LIBRARY_BRANCH
    with pytest.raises(InvalidInput, match="names the partner"):
        check_details(details(audience=Audience.PARTNER_STAFF))
    with pytest.raises(InvalidInput, match="not known in municipality"):
        check_details(details(audience=Audience.PARTNER_STAFF, audience_partner_id=OTHER_PARTNER_ID))
    with pytest.raises(InvalidInput, match="only to a course for partner staff"):
        check_details(details(audience_partner_id=PARTNER_ID))


def test_library_contributions_belong_to_a_partners_course_in_the_library() -> None:
    contributions = [LibraryContribution.LOCATION, LibraryContribution.RECRUITMENT, LibraryContribution.PROMOTION]
    assert check_details(details(library_contributions=contributions), HOSTED_PARTNER_COURSE)
    with pytest.raises(InvalidInput, match="partner's course that a library hosts"):
        check_details(details(library_contributions=contributions), LIBRARY_COURSE)


def test_partner_premises_and_elsewhere_need_what_makes_them_findable() -> None:
    own_premises = details(location=Location(kind=LocationKind.PARTNER_PREMISES, place="Overvecht"))
    assert check_details(own_premises, HOSTED_PARTNER_COURSE).partner_id == PARTNER_ID
    with pytest.raises(InvalidInput, match="names the partner"):
        check_details(own_premises, LIBRARY_COURSE)
    with pytest.raises(InvalidInput, match="address or a place"):
        check_details(details(location=Location(kind=LocationKind.ELSEWHERE)))


@pytest.mark.parametrize(
    ("actor", "status", "expected"),
    [
        (STAFF, CourseStatus.DRAFT, True),
        (OTHER_STAFF, CourseStatus.DRAFT, False),
        (OTHER_STAFF, CourseStatus.PUBLISHED, True),
        (PARTNER, CourseStatus.PUBLISHED, True),
        (COORDINATOR, CourseStatus.DRAFT, True),
        (COORDINATOR_ELSEWHERE, CourseStatus.PUBLISHED, False),
        (STAFF_ELSEWHERE, CourseStatus.PUBLISHED, False),
        (OPERATOR, CourseStatus.DRAFT, True),
    ],
)
def test_the_offer_is_visible_to_the_municipality_and_a_draft_only_to_who_runs_it(
    actor: Actor, status: CourseStatus, expected: bool
) -> None:
    assert offer.may_read_course(actor, course(status), municipality_of(actor)) is expected


@pytest.mark.parametrize(
    ("actor", "scope", "expected"),
    [
        (STAFF, course(), "allowed"),
        (OTHER_STAFF, course(), "Forbidden"),
        (OTHER_STAFF, course(CourseStatus.DRAFT), "NotFound"),
        (PARTNER, course(library=None, partner=PARTNER_ID), "allowed"),
        (STAFF, course(partner=PARTNER_ID), "allowed"),  # the host library runs it with the partner
        (PARTNER, course(partner=PARTNER_ID), "allowed"),
        (OTHER_PARTNER, course(partner=PARTNER_ID), "Forbidden"),
        (STAFF_ELSEWHERE, course(), "NotFound"),
        (COORDINATOR, course(), "Forbidden"),
    ],
)
def test_those_who_run_a_course_change_it_others_see_403_or_404(
    actor: Actor, scope: CourseScope, expected: str
) -> None:
    assert outcome(offer.check_manages, actor, scope, municipality_of(actor), what="change it") == expected


@pytest.mark.parametrize(
    ("hosted", "course_says", "library", "partner", "brings", "library_brings"),
    [
        # the partnership decides, whatever the course claims; volunteers only the course can ask for
        (
            True,
            ["location"],
            ["location", "promotion", "guidance"],
            ["content", "training"],
            ["content"],
            ["location", "promotion"],
        ),
        (
            True,
            ["volunteers"],
            ["recruitment"],
            ["content", "guidance"],
            ["content", "guidance"],
            ["recruitment", "volunteers"],
        ),
        # no partnership with known contributions: the course's own word, nothing said of the partner
        (True, ["location", "promotion"], None, None, [], ["location", "promotion"]),
        # a library's own course: no partner
        (False, ["location"], ["promotion"], ["content"], [], ["location"]),
    ],
)
def test_who_does_what_on_a_partners_course_comes_from_the_partnerships_contributions(
    hosted: bool,
    course_says: list[str],
    library: list[str] | None,
    partner: list[str] | None,
    brings: list[str],
    library_brings: list[str],
) -> None:
    division = offer.division_of_work(
        partner_course_hosted=hosted,
        course_says=course_says,
        partnership_library=library,
        partnership_partner=partner,
    )
    assert (division.partner_brings, division.library_contributions) == (brings, library_brings)
