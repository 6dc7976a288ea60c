"""The courses service's rules without servers: lifecycles, places and the waiting list, who may do what."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from services.courses.domain import enrolment, offer
from services.courses.domain.enrolment import EnrolmentScope, KnownReferral
from services.courses.domain.offer import CourseScope, CourseStep, Offerer, SessionStep
from shared.contracts.courses.api.courses import CourseDetails, CourseStatus, Location, Meeting, SessionStatus
from shared.contracts.courses.events import Audience, CourseFormat, EnrolmentStatus, LibraryContribution, LocationKind
from shared.contracts.referrals.api.referrals import ReferralStatus
from shared.contracts.vocabulary import SkillArea
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from shared.tenancy import Actor, Role

MUNICIPALITY = "utrecht"
LIBRARY = "centrale"
OTHER_LIBRARY = "overvecht"
PARTNER_ID = UUID("0190a000-0000-7000-8000-00000000000a")
OTHER_PARTNER_ID = UUID("0190a000-0000-7000-8000-00000000000b")
COURSE_ID = UUID("0190a000-0000-7000-8000-0000000000c0")

OPERATOR = Actor(subject="op", role=Role.OPERATOR)
COORDINATOR = Actor(subject="co", role=Role.COORDINATOR, municipality=MUNICIPALITY)
COORDINATOR_ELSEWHERE = Actor(subject="co2", role=Role.COORDINATOR, municipality="amersfoort")
STAFF = Actor(subject="st", role=Role.STAFF, municipality=MUNICIPALITY, library=LIBRARY)
OTHER_STAFF = Actor(subject="st2", role=Role.STAFF, municipality=MUNICIPALITY, library=OTHER_LIBRARY)
STAFF_ELSEWHERE = Actor(subject="st3", role=Role.STAFF, municipality="amersfoort", library="eemland")
PARTNER = Actor(subject="pa", role=Role.PARTNER, partner=str(PARTNER_ID), municipality=MUNICIPALITY)
OTHER_PARTNER = Actor(subject="pa2", role=Role.PARTNER, partner=str(OTHER_PARTNER_ID), municipality=MUNICIPALITY)


def municipality_of(actor: Actor) -> str | None:
    return actor.municipality


def outcome(check: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """`allowed`, or the name of the error the check raised."""
    try:
        check(*args, **kwargs)
    except (Forbidden, NotFound, InvalidInput, Conflict) as exc:
        return type(exc).__name__
    return "allowed"


def course(
    status: CourseStatus = CourseStatus.PUBLISHED,
    *,
    library: str | None = LIBRARY,
    partner: UUID | None = None,
    audience: Audience = Audience.JOB_SEEKERS,
    audience_partner_id: UUID | None = None,
) -> CourseScope:
    return CourseScope(
        id=COURSE_ID,
        municipality=MUNICIPALITY,
        library=library,
        offered_by_partner_id=partner,
        status=status,
        audience=audience,
        audience_partner_id=audience_partner_id,
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


ENROLMENT_LEGAL = {
    (EnrolmentStatus.WAITLISTED, enrolment.EnrolmentStep.PROMOTE): EnrolmentStatus.CONFIRMED,
    (EnrolmentStatus.WAITLISTED, enrolment.EnrolmentStep.CANCEL): EnrolmentStatus.CANCELLED,
    (EnrolmentStatus.CONFIRMED, enrolment.EnrolmentStep.CANCEL): EnrolmentStatus.CANCELLED,
    (EnrolmentStatus.CONFIRMED, enrolment.EnrolmentStep.RECORD_ATTENDANCE): EnrolmentStatus.CONFIRMED,
}


@pytest.mark.parametrize("status", list(EnrolmentStatus))
@pytest.mark.parametrize("step", list(enrolment.EnrolmentStep))
def test_enrolment_lifecycle_allows_only_the_table(status: EnrolmentStatus, step: enrolment.EnrolmentStep) -> None:
    if (status, step) in ENROLMENT_LEGAL:
        assert enrolment.apply_step(status, step) is ENROLMENT_LEGAL[(status, step)]
    else:
        with pytest.raises(IllegalTransition):
            enrolment.apply_step(status, step)


# --- places and the waiting list -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("capacity", "confirmed", "expected"),
    [
        (1, 0, EnrolmentStatus.CONFIRMED),
        (1, 1, EnrolmentStatus.WAITLISTED),
        (12, 11, EnrolmentStatus.CONFIRMED),
        (12, 12, EnrolmentStatus.WAITLISTED),
    ],
)
def test_a_newcomer_takes_a_free_place_or_joins_the_waiting_list(
    capacity: int, confirmed: int, expected: EnrolmentStatus
) -> None:
    assert enrolment.place_for_newcomer(capacity, confirmed) is expected


@pytest.mark.parametrize(
    ("capacity", "confirmed", "waitlisted", "expected"),
    [(10, 10, 5, 0), (10, 9, 5, 1), (15, 10, 3, 3), (15, 10, 0, 0), (10, 4, 9, 6)],
)
def test_as_many_move_up_as_there_are_free_places_and_people_waiting(
    capacity: int, confirmed: int, waitlisted: int, expected: int
) -> None:
    assert enrolment.places_to_fill(capacity, confirmed, waitlisted) == expected


@pytest.mark.parametrize(
    ("free", "kept", "waiting", "expected"),
    [
        (1, 1, "b1 b2 a1", ["a1"]),  # the kept place skips everyone else on the list
        (2, 1, "b1 b2 a1", ["b1", "a1"]),  # one place beyond the kept one: the first on the list
        (2, 1, "a1 b1 b2", ["a1", "b1"]),  # the referrer's referral used the kept place: the next one moves up
        (1, 1, "b1 b2", []),  # kept, and none of the referrer's referrals waits: the place stays kept
        (2, 0, "b1 a1 b2", ["b1", "a1"]),  # nothing kept: in order
        (1, 2, "a1 a2", ["a1"]),  # never more than the free places
        (3, 1, "b1 b2", ["b1", "b2"]),
    ],
)
def test_the_waiting_list_moves_up_around_places_kept_for_a_referrers_referrals(
    free: int, kept: int, waiting: str, expected: list[str]
) -> None:
    candidates = [(name, name.startswith("a")) for name in waiting.split()]
    assert enrolment.choose_promotions(free, kept, candidates) == expected


@pytest.mark.parametrize(
    ("partner", "ended", "until", "expected"),
    [
        ("a", False, None, True),  # until the referrer releases it
        ("a", False, 0, True),  # through its last day
        ("a", False, -1, False),  # the day after
        ("a", True, 5, False),  # released
        (None, False, None, False),  # nothing kept
    ],
)
def test_kept_places_run_through_their_last_day_until_released(
    partner: str | None, ended: bool, until: int | None, expected: bool
) -> None:
    today = datetime(2026, 12, 4, tzinfo=UTC).date()
    assert (
        enrolment.reservation_runs(
            UUID(int=1) if partner else None,
            datetime(2026, 12, 1, tzinfo=UTC) if ended else None,
            None if until is None else today + timedelta(days=until),
            today,
        )
        is expected
    )


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


def test_an_ended_session_takes_no_enrolments() -> None:
    now = datetime(2027, 3, 1, tzinfo=UTC)
    enrolment.check_session_open(now + timedelta(minutes=1), now)
    with pytest.raises(Conflict, match="ended"):
        enrolment.check_session_open(now, now)


# --- the participant -------------------------------------------------------------------------------

REFERRAL_ID = UUID("0190a000-0000-7000-8000-0000000000f1")
KNOWN = KnownReferral(id=REFERRAL_ID, municipality=MUNICIPALITY, participant_pseudonym="P-REFERRED01")


def participant(actor: Actor = OPERATOR, **kwargs: Any) -> str:
    values: dict[str, Any] = {
        "referral_id": None,
        "referral": None,
        "given_pseudonym": None,
        "municipality": MUNICIPALITY,
        "made_up": "P-MADEUP0001",
    }
    return enrolment.participant_for(actor, **(values | kwargs))


def test_an_enrolment_from_a_referral_is_for_the_referrals_participant() -> None:
    assert participant(referral_id=REFERRAL_ID, referral=KNOWN) == "P-REFERRED01"
    assert participant(referral_id=REFERRAL_ID, referral=KNOWN, given_pseudonym="P-REFERRED01") == "P-REFERRED01"


def test_a_referral_about_someone_else_or_unknown_here_is_refused() -> None:
    with pytest.raises(InvalidInput, match="another participant"):
        participant(referral_id=REFERRAL_ID, referral=KNOWN, given_pseudonym="P-SOMEONEELSE")
    with pytest.raises(InvalidInput, match="not known"):
        participant(referral_id=REFERRAL_ID, referral=None)
    elsewhere = KnownReferral(id=REFERRAL_ID, municipality="amersfoort", participant_pseudonym="P-REFERRED01")
    with pytest.raises(InvalidInput, match="not known in municipality utrecht"):
        participant(referral_id=REFERRAL_ID, referral=elsewhere)


REFERRED = KnownReferral(
    id=REFERRAL_ID,
    municipality=MUNICIPALITY,
    participant_pseudonym="P-REFERRED01",
    library=LIBRARY,
    referring_partner_id=PARTNER_ID,
)


@pytest.mark.parametrize(
    ("actor", "party"),
    [
        (OPERATOR, True),
        (STAFF, True),
        (PARTNER, True),
        (OTHER_STAFF, False),
        (OTHER_PARTNER, False),
        (COORDINATOR, False),
    ],
    ids=["operator", "its-library", "its-referring-partner", "another-library", "another-partner", "coordinator"],
)
def test_only_a_party_to_a_referral_enrols_it_and_others_hear_it_is_not_known(actor: Actor, party: bool) -> None:
    """Issue 15: otherwise the enrolment would move someone else's referral on and put it in the caller's feed."""
    if party:
        assert participant(actor, referral_id=REFERRAL_ID, referral=REFERRED) == "P-REFERRED01"
        return
    with pytest.raises(InvalidInput) as refused:
        participant(actor, referral_id=REFERRAL_ID, referral=REFERRED)
    with pytest.raises(InvalidInput) as unknown:
        participant(actor, referral_id=REFERRAL_ID, referral=None)
    assert refused.value.detail == unknown.value.detail  # nothing tells the two apart
    receiving = KnownReferral(**{**REFERRED.__dict__, "referring_partner_id": None, "receiving_partner_id": PARTNER_ID})
    assert receiving.has_party(PARTNER) and not receiving.has_party(OTHER_PARTNER)


@pytest.mark.parametrize("status", sorted(enrolment.ENROLS), ids=str)
def test_an_accepted_referral_enrols_before_and_after_its_intake_and_again(status: ReferralStatus) -> None:
    at = KnownReferral(**{**REFERRED.__dict__, "status": status})
    assert participant(STAFF, referral_id=REFERRAL_ID, referral=at) == "P-REFERRED01"


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (s, "accepts it first" if s is ReferralStatus.SUBMITTED else "it is closed")
        for s in ReferralStatus
        if s not in enrolment.ENROLS
    ],
    ids=str,
)
def test_a_referral_not_accepted_yet_or_closed_is_refused_naming_its_status(status: ReferralStatus, why: str) -> None:
    at = KnownReferral(**{**REFERRED.__dict__, "status": status})
    with pytest.raises(Conflict, match=why) as refused:
        participant(STAFF, referral_id=REFERRAL_ID, referral=at)
    assert refused.value.extra["referral_status"] == status.value


def test_a_direct_enrolment_uses_the_given_pseudonym_or_a_made_up_one() -> None:
    assert participant(given_pseudonym="P-GIVEN00001") == "P-GIVEN00001"
    assert participant() == "P-MADEUP0001"


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
    ("actor", "expected"),
    [
        (PARTNER, "allowed"),  # its own staff
        (STAFF, "allowed"),  # the library that gives the training
        (OTHER_PARTNER, "Forbidden"),
        (OTHER_STAFF, "Forbidden"),
        (COORDINATOR, "Forbidden"),
        (STAFF_ELSEWHERE, "NotFound"),
    ],
)
def test_a_training_for_a_partners_staff_takes_that_partners_people(actor: Actor, expected: str) -> None:
    training = course(audience=Audience.PARTNER_STAFF, audience_partner_id=PARTNER_ID)
    assert outcome(enrolment.check_may_enrol, actor, training, municipality_of(actor)) == expected


def test_an_open_course_takes_enrolments_from_anyone_who_refers_in_the_municipality() -> None:
    for actor in (STAFF, OTHER_STAFF, PARTNER, OTHER_PARTNER, OPERATOR):
        assert outcome(enrolment.check_may_enrol, actor, course(), municipality_of(actor)) == "allowed"


@pytest.mark.parametrize(
    ("actor", "cancel", "attendance"),
    [
        (STAFF, "allowed", "allowed"),  # runs the course
        (OTHER_STAFF, "allowed", "Forbidden"),  # enrolled the participant
        (PARTNER, "NotFound", "NotFound"),  # neither runs the course nor enrolled the participant
        (COORDINATOR, "Forbidden", "Forbidden"),
        (STAFF_ELSEWHERE, "NotFound", "NotFound"),
    ],
)
def test_who_cancels_an_enrolment_and_who_records_attendance(actor: Actor, cancel: str, attendance: str) -> None:
    scope = EnrolmentScope(course=course(), enrolled_by_library=OTHER_LIBRARY, enrolled_by_partner_id=None)
    municipality = municipality_of(actor)
    assert outcome(enrolment.check_may_cancel, actor, scope, municipality) == cancel
    assert outcome(enrolment.check_may_record_attendance, actor, scope, municipality) == attendance


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
