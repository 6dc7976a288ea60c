"""The lifecycles as tables of legal transitions, each with one function that applies a step.

An illegal step raises IllegalTransition naming the state and the step; none is ever ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from services.volunteers.domain.screening import Certificate, certificate_problem
from shared.contracts.volunteers.api.assignments import AssignmentStatus
from shared.contracts.volunteers.api.vacancies import VacancyStatus, VacancyStep
from shared.contracts.volunteers.api.volunteers import VolunteerStatus, VolunteerStep
from shared.contracts.volunteers.events import VolunteerKind
from shared.errors import IllegalTransition, InvalidInput

V = VolunteerStatus
Step = VolunteerStep

# applied → intake → screening → active, or withdrawn / rejected on the way; later inactive (and back).
VOLUNTEER_TRANSITIONS: dict[tuple[VolunteerStatus, VolunteerStep], VolunteerStatus] = {
    (V.APPLIED, Step.START_INTAKE): V.INTAKE,
    (V.APPLIED, Step.WITHDRAW): V.WITHDRAWN,
    (V.APPLIED, Step.REJECT): V.REJECTED,
    (V.INTAKE, Step.START_SCREENING): V.SCREENING,
    (V.INTAKE, Step.WITHDRAW): V.WITHDRAWN,
    (V.INTAKE, Step.REJECT): V.REJECTED,
    (V.SCREENING, Step.ACTIVATE): V.ACTIVE,
    (V.SCREENING, Step.WITHDRAW): V.WITHDRAWN,
    (V.SCREENING, Step.REJECT): V.REJECTED,
    (V.ACTIVE, Step.DEACTIVATE): V.INACTIVE,
    (V.INACTIVE, Step.REACTIVATE): V.ACTIVE,
}

# An intern arrives for an intake (the library's own introduction, as with any newcomer), is screened (the
# certificate of conduct where the role needs one), starts, and ends with the period, or earlier: before the start
# too, when the school or the library calls it off. The library may also decline an intern before the start.
INTERN_TRANSITIONS: dict[tuple[VolunteerStatus, VolunteerStep], VolunteerStatus] = {
    (V.INTAKE, Step.START_SCREENING): V.SCREENING,
    (V.INTAKE, Step.REJECT): V.REJECTED,
    (V.INTAKE, Step.END): V.ENDED,
    (V.SCREENING, Step.ACTIVATE): V.ACTIVE,
    (V.SCREENING, Step.REJECT): V.REJECTED,
    (V.SCREENING, Step.END): V.ENDED,
    (V.ACTIVE, Step.END): V.ENDED,
}
# Where a newly registered intern starts, and the states in which the internship is still to end.
INTERN_ARRIVES_IN = V.INTAKE
INTERNSHIP_RUNNING = frozenset({V.INTAKE, V.SCREENING, V.ACTIVE})

TRANSITIONS: dict[VolunteerKind, dict[tuple[VolunteerStatus, VolunteerStep], VolunteerStatus]] = {
    VolunteerKind.VOLUNTEER: VOLUNTEER_TRANSITIONS,
    VolunteerKind.INTERN: INTERN_TRANSITIONS,
}

STEPS_NEEDING_A_REASON = frozenset({Step.WITHDRAW, Step.REJECT})
# Steps into `active`: where the role needs it, only with a valid certificate of conduct.
STEPS_INTO_SERVICE = frozenset({Step.ACTIVATE, Step.REACTIVATE})


def apply_volunteer_step(kind: VolunteerKind, status: VolunteerStatus, step: VolunteerStep) -> VolunteerStatus:
    try:
        return TRANSITIONS[kind][(status, step)]
    except KeyError:
        raise IllegalTransition(
            f"a{'n' if kind is VolunteerKind.INTERN else ''} {kind.value} who is {status.value} cannot {step.value}",
            state=status.value,
            step=step.value,
        ) from None


def check_reason(step: VolunteerStep, reason: str | None) -> None:
    if step in STEPS_NEEDING_A_REASON and not (reason and reason.strip()):
        raise InvalidInput(f"to {step.value} needs a reason")


VACANCY_TRANSITIONS: dict[tuple[VacancyStatus, VacancyStep], VacancyStatus] = {
    (VacancyStatus.DRAFT, VacancyStep.PUBLISH): VacancyStatus.PUBLISHED,
    (VacancyStatus.DRAFT, VacancyStep.CLOSE): VacancyStatus.CLOSED,
    (VacancyStatus.PUBLISHED, VacancyStep.CLOSE): VacancyStatus.CLOSED,
    (VacancyStatus.CLOSED, VacancyStep.PUBLISH): VacancyStatus.PUBLISHED,  # reopened: published again
}


def apply_vacancy_step(status: VacancyStatus, step: VacancyStep) -> VacancyStatus:
    try:
        return VACANCY_TRANSITIONS[(status, step)]
    except KeyError:
        raise IllegalTransition(
            f"a vacancy that is {status.value} cannot {step.value}", state=status.value, step=step.value
        ) from None


ASSIGNMENT_TRANSITIONS: dict[tuple[AssignmentStatus, str], AssignmentStatus] = {
    (AssignmentStatus.ACTIVE, "end"): AssignmentStatus.ENDED,
}


def apply_assignment_step(status: AssignmentStatus, step: str) -> AssignmentStatus:
    try:
        return ASSIGNMENT_TRANSITIONS[(status, step)]
    except KeyError:
        raise IllegalTransition(
            f"an assignment that is {status.value} cannot {step}", state=status.value, step=step
        ) from None


def check_may_enter_service(
    volunteer_id: object,
    status: VolunteerStatus,
    step: VolunteerStep,
    certificate_required: bool,
    certificates: Sequence[Certificate],
    today: date,
) -> None:
    """Into `active` only with a valid certificate of conduct, where the role needs one."""
    if step not in STEPS_INTO_SERVICE or not certificate_required:
        return
    problem = certificate_problem(certificates, today)
    if problem is not None:
        raise IllegalTransition(
            f"volunteer {volunteer_id} cannot {step.value}: the role needs a valid certificate of conduct, "
            f"and {problem}",
            state=status.value,
            step=step.value,
            missing=[{"requirement": "certificate_of_conduct", "detail": problem}],
        )
