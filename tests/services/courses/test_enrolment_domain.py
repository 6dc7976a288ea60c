"""Enrolment's rules (services/courses/domain/enrolment.py): its lifecycle, places and the waiting list, the
participant a referral or a pseudonym names, and who enrols, cancels and records attendance. Unit tests: no
servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from services.courses.domain import enrolment
from services.courses.domain.enrolment import EnrolmentScope, KnownReferral
from shared.contracts.courses.events import Audience, EnrolmentStatus
from shared.contracts.referrals.api.referrals import ReferralStatus
from shared.errors import Conflict, IllegalTransition, InvalidInput
from shared.tenancy import Actor
from tests.services.courses.domain_support import (
    COORDINATOR,
    LIBRARY,
    MUNICIPALITY,
    OPERATOR,
    OTHER_LIBRARY,
    OTHER_PARTNER,
    OTHER_STAFF,
    PARTNER,
    PARTNER_ID,
    STAFF,
    STAFF_ELSEWHERE,
    course,
    municipality_of,
    outcome,
)

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
