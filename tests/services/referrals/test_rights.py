"""Who may do what with a referral (services/referrals/domain): submit, read it and the person's data, refer to a
partner, take each step, export or erase; a suspended partner and the partnership or agreement it needs. Unit
tests: no servers."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from services.referrals.domain import (
    Parties,
    PartnerStatus,
    Step,
    check_may_manage_personal_data,
    check_may_record_agreement,
    check_may_submit,
    check_may_take_step,
    check_may_take_steps,
    may_read,
    may_read_personal_data,
)
from shared.contracts.referrals.api.referrals import ReferralDirection
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.tenancy import Actor, Role

# --- who may submit -----------------------------------------------------------------------------

PARTNER_ID = UUID("0190a000-0000-7000-8000-000000000001")
OTHER_PARTNER_ID = UUID("0190a000-0000-7000-8000-000000000002")
LIBRARY = "centrale"
MUNICIPALITY = "utrecht"

OPERATOR = Actor(subject="op", role=Role.OPERATOR)
COORDINATOR = Actor(subject="co", role=Role.COORDINATOR, municipality=MUNICIPALITY)
STAFF = Actor(subject="st", role=Role.STAFF, municipality=MUNICIPALITY, library=LIBRARY)
OTHER_STAFF = Actor(subject="st2", role=Role.STAFF, municipality=MUNICIPALITY, library="overvecht")
PARTNER = Actor(subject="pa", role=Role.PARTNER, partner=str(PARTNER_ID))
OTHER_PARTNER = Actor(subject="pa2", role=Role.PARTNER, partner=str(OTHER_PARTNER_ID))


def submit(
    actor: Actor,
    *,
    library: str = LIBRARY,
    library_municipality: str | None = MUNICIPALITY,
    referring_partner_id: UUID = PARTNER_ID,
    partner_municipality: str | None = MUNICIPALITY,
) -> None:
    check_may_submit(
        actor,
        library=library,
        library_municipality=library_municipality,
        referring_partner_id=referring_partner_id,
        partner_municipality=partner_municipality,
    )


@pytest.mark.parametrize(
    "actor",
    [OPERATOR, PARTNER, STAFF, Actor(subject="pa", role=Role.PARTNER, partner=str(PARTNER_ID), municipality="utrecht")],
    ids=["operator", "partner-for-itself", "staff-of-the-library", "partner-with-municipality-claim"],
)
def test_may_submit_a_referral(actor: Actor) -> None:
    submit(actor)  # does not raise


def test_partner_cannot_submit_on_behalf_of_another_partner() -> None:
    with pytest.raises(Forbidden, match="own behalf"):
        submit(OTHER_PARTNER, referring_partner_id=PARTNER_ID)


def test_partner_whose_token_names_another_municipality_does_not_find_the_library() -> None:
    actor = Actor(subject="pa", role=Role.PARTNER, partner=str(PARTNER_ID), municipality="amersfoort")

    with pytest.raises(NotFound, match=LIBRARY):
        submit(actor)


def test_staff_cannot_submit_to_another_library() -> None:
    with pytest.raises(Forbidden, match=f"own library, not to {LIBRARY}"):
        submit(OTHER_STAFF)


def test_staff_of_another_library_is_refused_before_the_library_is_looked_up() -> None:
    # Forbidden whether or not the library exists: probing reveals nothing.
    for exists in (MUNICIPALITY, None):
        with pytest.raises(Forbidden):
            submit(OTHER_STAFF, library_municipality=exists)


def test_partner_for_another_partner_is_refused_before_anything_is_looked_up() -> None:
    for known in (MUNICIPALITY, None):
        with pytest.raises(Forbidden):
            submit(
                OTHER_PARTNER, referring_partner_id=PARTNER_ID, library_municipality=known, partner_municipality=known
            )


def test_coordinator_may_not_submit_even_in_own_municipality() -> None:
    with pytest.raises(Forbidden, match="coordinator may not submit"):
        submit(COORDINATOR)


@pytest.mark.parametrize("actor", [OPERATOR, PARTNER, STAFF], ids=["operator", "partner", "staff"])
def test_unknown_library_is_not_found(actor: Actor) -> None:
    library = actor.library or "nowhere"
    with pytest.raises(NotFound, match=f"library {library} not found"):
        submit(actor, library=library, library_municipality=None)


@pytest.mark.parametrize("actor", [OPERATOR, PARTNER, STAFF], ids=["operator", "partner", "staff"])
def test_unknown_referring_partner_is_invalid_input(actor: Actor) -> None:
    unknown = UUID(actor.partner) if actor.partner else uuid4()  # a partner not yet known to this service

    with pytest.raises(InvalidInput, match=f"referring partner {unknown} is not known"):
        submit(actor, referring_partner_id=unknown, partner_municipality=None)


@pytest.mark.parametrize("actor", [OPERATOR, PARTNER, STAFF], ids=["operator", "partner", "staff"])
def test_partner_and_library_in_different_municipalities_is_invalid_input(actor: Actor) -> None:
    with pytest.raises(InvalidInput, match="municipality"):
        submit(actor, partner_municipality="amersfoort")


# --- who may read -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (OPERATOR, True),
        (COORDINATOR, True),
        (Actor(subject="co2", role=Role.COORDINATOR, municipality="amersfoort"), False),
        (STAFF, True),
        (OTHER_STAFF, False),
        (PARTNER, True),
        (OTHER_PARTNER, False),
    ],
    ids=[
        "operator",
        "coordinator-of-the-municipality",
        "coordinator-elsewhere",
        "staff-of-the-library",
        "staff-of-another-library",
        "referring-partner",
        "other-partner",
    ],
)
def test_may_read_a_referral(actor: Actor, expected: bool) -> None:
    assert may_read(actor, library=LIBRARY, municipality=MUNICIPALITY, referring_partner_id=PARTNER_ID) is expected


def test_partner_reads_its_referral_regardless_of_its_municipality_claim() -> None:
    actor = Actor(subject="pa", role=Role.PARTNER, partner=str(PARTNER_ID), municipality="amersfoort")

    assert may_read(actor, library=LIBRARY, municipality=MUNICIPALITY, referring_partner_id=PARTNER_ID) is True


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (OPERATOR, False),
        (COORDINATOR, False),
        (STAFF, True),
        (OTHER_STAFF, False),
        (PARTNER, True),
        (OTHER_PARTNER, False),
    ],
    ids=[
        "operator",
        "coordinator",
        "staff-of-the-receiving-library",
        "staff-of-another-library",
        "referring-partner",
        "other-partner",
    ],
)
def test_may_read_personal_data(actor: Actor, expected: bool) -> None:
    assert may_read_personal_data(actor, library=LIBRARY, referring_partner_id=PARTNER_ID) is expected


# --- the other direction: a library refers to a partner -------------------------------------------

COURSE_PARTNER_ID = UUID("0190a000-0000-7000-8000-000000000003")


def refer_to_partner(
    actor: Actor,
    *,
    library: str = LIBRARY,
    partner_municipality: str | None = MUNICIPALITY,
    partner_status: PartnerStatus = PartnerStatus.ACTIVE,
    partnered: bool = True,
) -> None:
    check_may_submit(
        actor,
        library=library,
        library_municipality=MUNICIPALITY,
        referring_partner_id=None,
        receiving_partner_id=COURSE_PARTNER_ID,
        partner_municipality=partner_municipality,
        partner_status=partner_status,
        partnered=partnered,
    )


@pytest.mark.parametrize("actor", [STAFF, OPERATOR], ids=["staff-of-the-library", "operator"])
def test_library_may_refer_to_a_partner(actor: Actor) -> None:
    refer_to_partner(actor)  # does not raise


@pytest.mark.parametrize(
    ("actor", "message"),
    [
        (PARTNER, "only staff of a library refer a participant to a partner"),
        (OTHER_STAFF, f"not to {LIBRARY}"),
        (COORDINATOR, "coordinator may not submit"),
    ],
    ids=["partner", "staff-of-another-library", "coordinator"],
)
def test_only_the_librarys_own_staff_refer_to_a_partner(actor: Actor, message: str) -> None:
    with pytest.raises(Forbidden, match=message):
        refer_to_partner(actor)


def test_unknown_receiving_partner_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match=f"receiving partner {COURSE_PARTNER_ID} is not known"):
        refer_to_partner(STAFF, partner_municipality=None)


@pytest.mark.parametrize(
    ("referring", "receiving"),
    [(PARTNER_ID, COURSE_PARTNER_ID), (None, None)],
    ids=["partner-to-partner", "nobody"],
)
def test_a_referral_has_exactly_one_partner_side(referring: UUID | None, receiving: UUID | None) -> None:
    with pytest.raises(InvalidInput, match="either the referring partner"):
        check_may_submit(
            STAFF,
            library=LIBRARY,
            library_municipality=MUNICIPALITY,
            referring_partner_id=referring,
            receiving_partner_id=receiving,
            partner_municipality=MUNICIPALITY,
        )


# --- suspended and ended partners ---------------------------------------------------------------


@pytest.mark.parametrize("status", [PartnerStatus.SUSPENDED, PartnerStatus.ENDED], ids=["suspended", "ended"])
def test_a_suspended_or_ended_partner_refers_nobody(status: PartnerStatus) -> None:
    with pytest.raises(Conflict, match=f"referring partner {PARTNER_ID} is {status.value}") as caught:
        check_may_submit(
            PARTNER,
            library=LIBRARY,
            library_municipality=MUNICIPALITY,
            referring_partner_id=PARTNER_ID,
            partner_municipality=MUNICIPALITY,
            partner_status=status,
        )

    assert caught.value.extra == {"partner_id": str(PARTNER_ID), "partner_status": status.value}


def test_nobody_is_referred_to_a_suspended_partner() -> None:
    with pytest.raises(Conflict, match=rf"receiving partner {COURSE_PARTNER_ID} is suspended"):
        refer_to_partner(STAFF, partner_status=PartnerStatus.SUSPENDED)


def test_a_suspended_partner_is_refused_only_after_its_rights_are_checked() -> None:
    # Another partner learns nothing about this partner's status: it is refused for acting on its behalf.
    with pytest.raises(Forbidden):
        check_may_submit(
            OTHER_PARTNER,
            library=LIBRARY,
            library_municipality=MUNICIPALITY,
            referring_partner_id=PARTNER_ID,
            partner_municipality=MUNICIPALITY,
            partner_status=PartnerStatus.SUSPENDED,
        )


def test_no_referral_without_an_active_partnership_or_the_municipalitys_agreement() -> None:
    with pytest.raises(Conflict, match=f"no active partnership with library {LIBRARY}") as caught:
        check_may_submit(
            PARTNER,
            library=LIBRARY,
            library_municipality=MUNICIPALITY,
            referring_partner_id=PARTNER_ID,
            partner_municipality=MUNICIPALITY,
            partnered=False,
        )
    assert caught.value.extra == {"partner_id": str(PARTNER_ID), "library": LIBRARY}
    with pytest.raises(Conflict, match=f"receiving partner {COURSE_PARTNER_ID} has no active partnership"):
        refer_to_partner(STAFF, partnered=False)


# --- municipality-wide referral agreements ------------------------------------------------------


def test_the_coordinator_records_an_agreement_with_a_partner_of_the_municipality() -> None:
    assert check_may_record_agreement(COORDINATOR, MUNICIPALITY) == MUNICIPALITY
    assert check_may_record_agreement(OPERATOR, MUNICIPALITY) == MUNICIPALITY
    with pytest.raises(NotFound):
        check_may_record_agreement(COORDINATOR, "elders")  # another municipality's partner
    for actor in (STAFF, PARTNER):
        with pytest.raises(Forbidden):
            check_may_record_agreement(actor, MUNICIPALITY)


# --- who may take which step --------------------------------------------------------------------

TO_LIBRARY = Parties(library=LIBRARY, municipality=MUNICIPALITY, referring_partner_id=PARTNER_ID)
TO_PARTNER = Parties(
    library=LIBRARY, municipality=MUNICIPALITY, referring_partner_id=None, receiving_partner_id=COURSE_PARTNER_ID
)
COURSE_PARTNER = Actor(subject="cp", role=Role.PARTNER, partner=str(COURSE_PARTNER_ID))
RECEIVER_STEPS = [
    Step.ACCEPT,
    Step.DECLINE,
    Step.PLAN_INTAKE,
    Step.RECORD_INTAKE_HELD,
    Step.COMPLETE,
    Step.MARK_NO_SHOW,
]

# (referral, actor, steps it may take)
STEP_RIGHTS = [
    ("to-library", TO_LIBRARY, "library-staff", STAFF, RECEIVER_STEPS),
    ("to-library", TO_LIBRARY, "referring-partner", PARTNER, [Step.WITHDRAW]),
    ("to-library", TO_LIBRARY, "other-staff", OTHER_STAFF, []),
    ("to-library", TO_LIBRARY, "other-partner", OTHER_PARTNER, []),
    ("to-partner", TO_PARTNER, "library-staff", STAFF, [Step.WITHDRAW]),
    ("to-partner", TO_PARTNER, "receiving-partner", COURSE_PARTNER, RECEIVER_STEPS),
    ("to-partner", TO_PARTNER, "other-staff", OTHER_STAFF, []),
    ("to-partner", TO_PARTNER, "other-partner", PARTNER, []),
]


@pytest.mark.parametrize(
    ("parties", "actor", "allowed"),
    [(parties, actor, allowed) for _, parties, _, actor, allowed in STEP_RIGHTS],
    ids=[f"{referral}-{who}" for referral, _, who, _, _ in STEP_RIGHTS],
)
def test_receiving_side_answers_and_referring_side_withdraws(
    parties: Parties, actor: Actor, allowed: list[Step]
) -> None:
    for step in Step:
        if step in allowed:
            check_may_take_step(actor, parties, step)  # does not raise
        else:
            with pytest.raises(Forbidden):
                check_may_take_step(actor, parties, step)


@pytest.mark.parametrize("step", [Step.ENROL, Step.EXPIRE], ids=["enrol", "expire"])
def test_enrolment_and_expiry_are_never_taken_by_hand(step: Step) -> None:
    with pytest.raises(Forbidden, match="nobody may"):
        check_may_take_step(STAFF, TO_LIBRARY, step)


@pytest.mark.parametrize("actor", [OPERATOR, COORDINATOR], ids=["operator", "coordinator"])
def test_only_the_parties_change_referrals_refused_before_any_lookup(actor: Actor) -> None:
    with pytest.raises(Forbidden):
        check_may_take_steps(actor)


def test_directions_of_the_two_kinds_of_referral() -> None:
    assert TO_LIBRARY.direction is ReferralDirection.TO_LIBRARY
    assert TO_LIBRARY.referring_library is None
    assert TO_PARTNER.direction is ReferralDirection.TO_PARTNER
    assert TO_PARTNER.referring_library == LIBRARY


def test_the_receiving_partner_reads_and_sees_the_person_it_receives() -> None:
    kwargs: dict[str, Any] = {
        "library": LIBRARY,
        "referring_partner_id": None,
        "receiving_partner_id": COURSE_PARTNER_ID,
    }
    assert may_read(COURSE_PARTNER, municipality=MUNICIPALITY, **kwargs) is True
    assert may_read_personal_data(COURSE_PARTNER, **kwargs) is True
    assert may_read(PARTNER, municipality=MUNICIPALITY, **kwargs) is False
    assert may_read_personal_data(PARTNER, **kwargs) is False


@pytest.mark.parametrize("actor", [OPERATOR, COORDINATOR, PARTNER], ids=["operator", "coordinator", "partner"])
def test_only_staff_export_erase_or_audit_personal_data(actor: Actor) -> None:
    with pytest.raises(Forbidden):
        check_may_manage_personal_data(actor)


def test_staff_of_another_library_do_not_find_the_referral_to_export() -> None:
    with pytest.raises(NotFound):
        check_may_manage_personal_data(OTHER_STAFF, LIBRARY)
