"""Volunteer rules without servers: the pipelines as tables, screening, qualifications, assignment, scope."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest

from services.volunteers.domain import assignment, internship, pipeline, scope, screening, training
from services.volunteers.domain.assignment import Candidate, requirements
from services.volunteers.domain.screening import Certificate
from shared.contracts.partners.api.partnerships import PartnershipRole
from shared.contracts.partners.events import PartnerKind
from shared.contracts.volunteers.api.assignments import AssignmentStatus
from shared.contracts.volunteers.api.vacancies import VacancyStatus, VacancyStep
from shared.contracts.volunteers.api.volunteers import CertificateStatus, VolunteerStatus, VolunteerStep
from shared.contracts.volunteers.events import AssignmentKind, ModuleDelivery, VolunteerKind
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from shared.tenancy import Actor, Role

S = VolunteerStatus
Step = VolunteerStep
TODAY = date(2026, 11, 29)

# The pipelines, written out independently of the code so that any change to them is a visible decision.
EXPECTED_VOLUNTEER: dict[tuple[VolunteerStatus, VolunteerStep], VolunteerStatus] = {
    (S.APPLIED, Step.START_INTAKE): S.INTAKE,
    (S.APPLIED, Step.WITHDRAW): S.WITHDRAWN,
    (S.APPLIED, Step.REJECT): S.REJECTED,
    (S.INTAKE, Step.START_SCREENING): S.SCREENING,
    (S.INTAKE, Step.WITHDRAW): S.WITHDRAWN,
    (S.INTAKE, Step.REJECT): S.REJECTED,
    (S.SCREENING, Step.ACTIVATE): S.ACTIVE,
    (S.SCREENING, Step.WITHDRAW): S.WITHDRAWN,
    (S.SCREENING, Step.REJECT): S.REJECTED,
    (S.ACTIVE, Step.DEACTIVATE): S.INACTIVE,
    (S.INACTIVE, Step.REACTIVATE): S.ACTIVE,
}
# An intern has an intake and screening like anyone new; the internship ends at any point before or in service.
EXPECTED_INTERN = {
    (S.INTAKE, Step.START_SCREENING): S.SCREENING,
    (S.INTAKE, Step.REJECT): S.REJECTED,
    (S.INTAKE, Step.END): S.ENDED,
    (S.SCREENING, Step.ACTIVATE): S.ACTIVE,
    (S.SCREENING, Step.REJECT): S.REJECTED,
    (S.SCREENING, Step.END): S.ENDED,
    (S.ACTIVE, Step.END): S.ENDED,
}
ILLEGAL_VOLUNTEER = [(status, step) for status in S for step in Step if (status, step) not in EXPECTED_VOLUNTEER]
ILLEGAL_INTERN = [(status, step) for status in S for step in Step if (status, step) not in EXPECTED_INTERN]
EXPECTED_VACANCY = {
    (VacancyStatus.DRAFT, VacancyStep.PUBLISH): VacancyStatus.PUBLISHED,
    (VacancyStatus.DRAFT, VacancyStep.CLOSE): VacancyStatus.CLOSED,
    (VacancyStatus.PUBLISHED, VacancyStep.CLOSE): VacancyStatus.CLOSED,
    (VacancyStatus.CLOSED, VacancyStep.PUBLISH): VacancyStatus.PUBLISHED,
}


def ids(pairs: list[tuple[VolunteerStatus, VolunteerStep]]) -> list[str]:
    return [f"{status.value}-{step.value}" for status, step in pairs]


# --- the pipelines --------------------------------------------------------------------------------


def test_volunteer_pipeline_table_is_exactly_the_expected_one() -> None:
    assert pipeline.VOLUNTEER_TRANSITIONS == EXPECTED_VOLUNTEER
    assert pipeline.INTERN_TRANSITIONS == EXPECTED_INTERN
    assert pipeline.VACANCY_TRANSITIONS == EXPECTED_VACANCY


@pytest.mark.parametrize(("status", "step"), list(EXPECTED_VOLUNTEER), ids=ids(list(EXPECTED_VOLUNTEER)))
def test_legal_volunteer_step_gives_the_expected_status(status: VolunteerStatus, step: VolunteerStep) -> None:
    assert pipeline.apply_volunteer_step(VolunteerKind.VOLUNTEER, status, step) is EXPECTED_VOLUNTEER[(status, step)]


@pytest.mark.parametrize(("status", "step"), ILLEGAL_VOLUNTEER, ids=ids(ILLEGAL_VOLUNTEER))
def test_illegal_volunteer_step_raises_naming_state_and_step(status: VolunteerStatus, step: VolunteerStep) -> None:
    with pytest.raises(IllegalTransition) as raised:
        pipeline.apply_volunteer_step(VolunteerKind.VOLUNTEER, status, step)

    assert raised.value.extra == {"state": status.value, "step": step.value}
    assert status.value in raised.value.detail and step.value in raised.value.detail


@pytest.mark.parametrize(("status", "step"), ILLEGAL_INTERN, ids=ids(ILLEGAL_INTERN))
def test_an_intern_takes_no_other_step(status: VolunteerStatus, step: VolunteerStep) -> None:
    with pytest.raises(IllegalTransition, match="an intern"):
        pipeline.apply_volunteer_step(VolunteerKind.INTERN, status, step)


@pytest.mark.parametrize(("status", "step"), list(EXPECTED_INTERN), ids=ids(list(EXPECTED_INTERN)))
def test_legal_intern_step_gives_the_expected_status(status: VolunteerStatus, step: VolunteerStep) -> None:
    assert pipeline.apply_volunteer_step(VolunteerKind.INTERN, status, step) is EXPECTED_INTERN[(status, step)]


def test_an_intern_arrives_for_an_intake_not_active() -> None:
    assert pipeline.INTERN_ARRIVES_IN is S.INTAKE
    with pytest.raises(IllegalTransition):
        pipeline.apply_volunteer_step(VolunteerKind.INTERN, S.INTAKE, Step.ACTIVATE)


@pytest.mark.parametrize("terminal", [S.WITHDRAWN, S.REJECTED, S.ENDED])
def test_withdrawn_rejected_and_ended_are_final(terminal: VolunteerStatus) -> None:
    for kind in VolunteerKind:
        for step in Step:
            with pytest.raises(IllegalTransition):
                pipeline.apply_volunteer_step(kind, terminal, step)


@pytest.mark.parametrize(
    ("status", "step"),
    [(status, step) for status in VacancyStatus for step in VacancyStep if (status, step) not in EXPECTED_VACANCY],
)
def test_illegal_vacancy_step_raises(status: VacancyStatus, step: VacancyStep) -> None:
    with pytest.raises(IllegalTransition):
        pipeline.apply_vacancy_step(status, step)


def test_an_ended_assignment_cannot_end_again() -> None:
    assert pipeline.apply_assignment_step(AssignmentStatus.ACTIVE, "end") is AssignmentStatus.ENDED
    with pytest.raises(IllegalTransition):
        pipeline.apply_assignment_step(AssignmentStatus.ENDED, "end")


@pytest.mark.parametrize("step", [Step.WITHDRAW, Step.REJECT])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_withdrawing_and_rejecting_need_a_reason(step: VolunteerStep, reason: str | None) -> None:
    with pytest.raises(InvalidInput, match="reason"):
        pipeline.check_reason(step, reason)


def test_other_steps_need_no_reason() -> None:
    pipeline.check_reason(Step.DEACTIVATE, None)
    pipeline.check_reason(Step.REJECT, "geen klik")


# --- activation and the certificate of conduct --------------------------------------------------

REQUESTED = datetime(2026, 10, 1, tzinfo=UTC)


def received(issued_on: date, valid_until: date | None = None) -> Certificate:
    return Certificate(requested_at=REQUESTED, received_at=REQUESTED, issued_on=issued_on, valid_until=valid_until)


@pytest.mark.parametrize(
    ("certificates", "problem"),
    [
        ([], "no certificate of conduct has been requested"),
        ([Certificate(requested_at=REQUESTED)], "requested but has not been received"),
        ([received(date(2024, 1, 1), date(2025, 1, 1))], "valid until 2025-01-01"),
    ],
    ids=["none", "requested", "expired"],
)
def test_activation_is_refused_without_a_valid_certificate_where_the_role_needs_one(
    certificates: list[Certificate], problem: str
) -> None:
    with pytest.raises(IllegalTransition, match=problem) as raised:
        pipeline.check_may_enter_service(uuid4(), S.SCREENING, Step.ACTIVATE, True, certificates, TODAY)

    assert raised.value.extra["missing"][0]["requirement"] == "certificate_of_conduct"


@pytest.mark.parametrize(
    ("required", "certificates"),
    [
        (True, [received(date(2026, 11, 1))]),  # no expiry set
        (True, [received(date(2026, 1, 1), TODAY)]),  # its last day
        (False, []),  # the role needs none
    ],
)
def test_activation_is_allowed_with_a_valid_certificate_or_when_none_is_needed(
    required: bool, certificates: list[Certificate]
) -> None:
    pipeline.check_may_enter_service(uuid4(), S.SCREENING, Step.ACTIVATE, required, certificates, TODAY)
    pipeline.check_may_enter_service(uuid4(), S.INACTIVE, Step.REACTIVATE, required, certificates, TODAY)


def test_reactivation_needs_the_certificate_too() -> None:
    with pytest.raises(IllegalTransition):
        pipeline.check_may_enter_service(uuid4(), S.INACTIVE, Step.REACTIVATE, True, [], TODAY)


def test_a_renewal_is_requested_while_the_old_certificate_still_counts() -> None:
    old = received(date(2024, 12, 1), date(2026, 12, 31))
    renewal = Certificate(requested_at=datetime(2026, 11, 20, tzinfo=UTC))

    view = screening.certificate_view([old, renewal], TODAY)

    assert view is not None
    assert view.status is CertificateStatus.VALID
    assert view.valid_until == date(2026, 12, 31)
    assert view.renewal_requested_at == renewal.requested_at
    with pytest.raises(IllegalTransition, match="requested already"):
        screening.check_may_request([old, renewal])


def test_a_certificate_is_received_only_after_a_request_and_not_from_the_future() -> None:
    asked = REQUESTED.date()
    with pytest.raises(IllegalTransition, match="no certificate of conduct was requested"):
        screening.check_receipt([], date(2026, 11, 1), None, TODAY, requested_on=asked)
    pending = [Certificate(requested_at=REQUESTED)]
    with pytest.raises(InvalidInput, match="future"):
        screening.check_receipt(pending, date(2026, 12, 1), None, TODAY, requested_on=asked)
    with pytest.raises(InvalidInput, match="expire before"):
        screening.check_receipt(pending, date(2026, 11, 1), date(2026, 10, 1), TODAY, requested_on=asked)
    screening.check_receipt(pending, date(2026, 11, 1), date(2028, 11, 1), TODAY, requested_on=asked)


# --- qualifications -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),
        (date(2026, 3, 10), 24, date(2028, 3, 10)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(day: date, months: int, expected: date) -> None:
    assert training.add_months(day, months) == expected


def test_a_qualification_holds_until_the_day_before_its_anniversary_or_for_ever() -> None:
    assert training.qualification_valid_until(date(2020, 1, 10), 12) == date(2021, 1, 9)
    assert training.qualification_valid_until(date(2020, 1, 10), None) is None
    assert training.holds_on(date(2021, 1, 9), date(2021, 1, 9))
    assert not training.holds_on(date(2021, 1, 9), date(2021, 1, 10))
    assert training.holds_on(None, date(2099, 1, 1))


@pytest.mark.parametrize(
    ("new", "held", "better"),
    [
        (None, date(2027, 1, 1), True),
        (date(2028, 1, 1), date(2027, 1, 1), True),
        (date(2026, 1, 1), date(2027, 1, 1), False),
        (date(2030, 1, 1), None, False),
    ],
)
def test_a_new_grant_replaces_the_held_one_only_when_it_lasts_longer(
    new: date | None, held: date | None, better: bool
) -> None:
    assert training.lasts_longer(new, held) is better


@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("Laaggeletterdheid herkennen", "laaggeletterdheid-herkennen"),
        ("Privacy & AVG!", "privacy-avg"),
        ("Café-tafel Één", "cafe-tafel-een"),
        ("?", "training"),
    ],
)
def test_a_bought_module_is_named_after_its_title(title: str, code: str) -> None:
    assert training.qualification_code(title) == code


def test_module_providers_match_how_it_is_delivered() -> None:
    with pytest.raises(InvalidInput):
        training.check_provider(ModuleDelivery.VOLUNTEER_ORGANISATION, None)
    with pytest.raises(InvalidInput):
        training.check_provider(ModuleDelivery.LIBRARY, uuid4())
    with pytest.raises(InvalidInput, match="courses service"):
        training.check_provider(ModuleDelivery.PURCHASE, None)
    training.check_provider(ModuleDelivery.LIBRARY, None)


def test_completion_needs_attendance_and_someone_still_in_the_pipeline() -> None:
    with pytest.raises(InvalidInput):
        training.check_attendance(S.ACTIVE, training.Attendance(attended=False, completed=True))
    with pytest.raises(Conflict):
        training.check_attendance(S.WITHDRAWN, training.Attendance(attended=True, completed=True))
    training.check_attendance(S.SCREENING, training.Attendance(attended=True, completed=True))


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


def test_an_internship_is_over_from_the_day_after_its_last_day() -> None:
    assert not internship.period_is_over(date(2026, 11, 29), TODAY)
    assert internship.period_is_over(date(2026, 11, 28), TODAY)
    with pytest.raises(InvalidInput):
        internship.check_period(date(2026, 2, 1), date(2026, 1, 1))


# --- scope --------------------------------------------------------------------------------------

STAFF_A = Actor(subject="s", role=Role.STAFF, municipality="zuidstad", library="bieb-a")
COORDINATOR = Actor(subject="c", role=Role.COORDINATOR, municipality="zuidstad")
ORGANISATION = UUID("01a226a7-0000-7000-8000-00000000000a")
PARTNER = Actor(subject="p", role=Role.PARTNER, municipality="zuidstad", partner=str(ORGANISATION))


def test_roles_are_checked_before_anything_is_looked_up() -> None:
    with pytest.raises(Forbidden):
        scope.check_may_manage(COORDINATOR)
    with pytest.raises(Forbidden):
        scope.check_may_manage(PARTNER)
    with pytest.raises(Forbidden):
        scope.check_may_take_step(PARTNER, Step.ACTIVATE)
    scope.check_may_take_step(PARTNER, Step.WITHDRAW)
    with pytest.raises(Forbidden):
        scope.library_for_new(STAFF_A, "bieb-b")
    assert scope.library_for_new(STAFF_A, None) == "bieb-a"
    with pytest.raises(Forbidden):
        scope.check_may_apply(PARTNER, "bieb-a", uuid4())
    assert scope.check_may_apply(PARTNER, "bieb-a", None) == ("bieb-a", ORGANISATION)


def test_out_of_scope_is_not_found_and_in_scope_but_read_only_is_forbidden() -> None:
    with pytest.raises(NotFound):
        scope.check_may_act(STAFF_A, "bieb-b", "zuidstad", "vacancy x")
    with pytest.raises(Forbidden):
        scope.check_may_act(COORDINATOR, "bieb-b", "zuidstad", "vacancy x")
    with pytest.raises(NotFound):
        scope.check_may_act_on_volunteer(PARTNER, "bieb-a", "zuidstad", uuid4(), "volunteer x")
    scope.check_may_act_on_volunteer(PARTNER, "bieb-a", "zuidstad", ORGANISATION, "volunteer x")


def test_only_own_staff_and_the_supplying_partner_see_the_person() -> None:
    assert scope.may_see_person(STAFF_A, "bieb-a", None)
    assert not scope.may_see_person(COORDINATOR, "bieb-a", None)
    assert scope.may_see_person(PARTNER, "bieb-a", ORGANISATION)
    assert not scope.may_see_person(PARTNER, "bieb-a", uuid4())


@pytest.mark.parametrize(
    ("supplier", "error"),
    [
        (None, InvalidInput),
        (scope.Supplier(ORGANISATION, PartnerKind.REFERRER, "zuidstad", "active", True), None),
        (scope.Supplier(ORGANISATION, PartnerKind.VOLUNTEER_ORGANISATION, "elders", "active", True), InvalidInput),
        (scope.Supplier(ORGANISATION, PartnerKind.VOLUNTEER_ORGANISATION, "zuidstad", "suspended", True), InvalidInput),
        (scope.Supplier(ORGANISATION, PartnerKind.VOLUNTEER_ORGANISATION, "zuidstad", "active", False), InvalidInput),
        (scope.Supplier(ORGANISATION, PartnerKind.VOLUNTEER_ORGANISATION, "zuidstad", "active", True), None),
    ],
    ids=["unknown", "another-kind-in-the-role", "other-municipality", "suspended", "no-partnership", "fine"],
)
def test_a_supplier_partners_with_the_library_in_good_standing(
    supplier: scope.Supplier | None, error: type[Exception] | None
) -> None:
    def check() -> None:
        scope.check_supplier(STAFF_A, ORGANISATION, supplier, "bieb-a", "zuidstad", PartnershipRole.VOLUNTEER_SUPPLIER)

    if error is None:
        check()
    else:
        with pytest.raises(error):
            check()


def test_the_partner_itself_is_told_it_may_not_rather_than_bad_input() -> None:
    no_partnership = scope.Supplier(ORGANISATION, PartnerKind.VOLUNTEER_ORGANISATION, "zuidstad", "active", False)
    with pytest.raises(Forbidden):
        scope.check_supplier(
            PARTNER, ORGANISATION, no_partnership, "bieb-a", "zuidstad", PartnershipRole.VOLUNTEER_SUPPLIER
        )
    with pytest.raises(NotFound):
        scope.check_supplier(PARTNER, ORGANISATION, None, "bieb-a", "zuidstad", PartnershipRole.VOLUNTEER_SUPPLIER)


def test_the_partnership_role_decides_who_supplies_interns_not_the_partner_kind() -> None:
    roc = scope.Supplier(ORGANISATION, PartnerKind.ADULT_EDUCATION_SCHOOL, "zuidstad", "active", True)
    school_without_the_role = scope.Supplier(
        ORGANISATION, PartnerKind.EDUCATIONAL_INSTITUTION, "zuidstad", "active", False
    )

    scope.check_supplier(STAFF_A, ORGANISATION, roc, "bieb-a", "zuidstad", PartnershipRole.INTERN_SUPPLIER)
    with pytest.raises(InvalidInput, match="as intern supplier"):
        scope.check_supplier(
            STAFF_A, ORGANISATION, school_without_the_role, "bieb-a", "zuidstad", PartnershipRole.INTERN_SUPPLIER
        )


def test_a_module_given_by_a_volunteer_organisation_still_asks_what_the_partner_is() -> None:
    roc = scope.Supplier(ORGANISATION, PartnerKind.ADULT_EDUCATION_SCHOOL, "zuidstad", "active", True)
    with pytest.raises(InvalidInput, match="is not a volunteer organisation"):
        scope.check_supplier(
            STAFF_A, ORGANISATION, roc, "bieb-a", "zuidstad", None, kind=PartnerKind.VOLUNTEER_ORGANISATION
        )


def test_a_school_may_end_its_own_interns_internship() -> None:
    scope.check_may_take_step(PARTNER, Step.END)
    with pytest.raises(Forbidden):
        scope.check_may_take_step(PARTNER, Step.START_SCREENING)


def test_a_partner_token_that_names_no_partner_owns_nothing() -> None:
    assert scope.partner_of(PARTNER) == ORGANISATION
    assert scope.partner_of(Actor(subject="p", role=Role.PARTNER, partner="not-a-uuid")) is None
    assert scope.partner_of(STAFF_A) is None
    with pytest.raises(Forbidden):
        scope.check_may_apply(Actor(subject="p", role=Role.PARTNER, partner="not-a-uuid"), "bieb-a", None)
