"""The volunteer's, intern's, vacancy's and assignment's lifecycles (services/volunteers/domain/pipeline.py), the
certificate of conduct activation needs (domain/screening.py) and an internship's period (domain/internship.py).
Unit tests: no servers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from services.volunteers.domain import internship, pipeline, screening
from services.volunteers.domain.screening import Certificate
from shared.contracts.volunteers.api.assignments import AssignmentStatus
from shared.contracts.volunteers.api.vacancies import VacancyStatus, VacancyStep
from shared.contracts.volunteers.api.volunteers import CertificateStatus, VolunteerStatus, VolunteerStep
from shared.contracts.volunteers.events import VolunteerKind
from shared.errors import IllegalTransition, InvalidInput
from tests.services.volunteers.domain_support import REQUESTED, TODAY, S, Step, received

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


def test_an_internship_is_over_from_the_day_after_its_last_day() -> None:
    assert not internship.period_is_over(date(2026, 11, 29), TODAY)
    assert internship.period_is_over(date(2026, 11, 28), TODAY)
    with pytest.raises(InvalidInput):
        internship.check_period(date(2026, 2, 1), date(2026, 1, 1))
