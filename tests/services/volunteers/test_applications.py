"""One application per person and vacancy, without servers: which earlier application still stands."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.volunteers.domain import applications
from services.volunteers.domain.applications import EarlierApplication
from shared.contracts.volunteers.api.volunteers import VolunteerStatus
from shared.contracts.volunteers.events import VolunteerKind
from shared.errors import Conflict

S = VolunteerStatus
VACANCY = uuid4()


def earlier(status: VolunteerStatus, vacancy_id: object = VACANCY, kind: VolunteerKind = VolunteerKind.VOLUNTEER):
    return EarlierApplication(volunteer_id=uuid4(), kind=kind, status=status, vacancy_id=vacancy_id)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "status", [S.APPLIED, S.INTAKE, S.SCREENING, S.ACTIVE, S.INACTIVE, S.REJECTED], ids=lambda s: s.value
)
def test_a_second_application_to_the_same_vacancy_is_refused_while_the_first_stands(status: VolunteerStatus) -> None:
    with pytest.raises(Conflict, match=f"applied to vacancy {VACANCY} already"):
        applications.check_first_application([earlier(status)], VACANCY)


def test_after_withdrawing_a_person_may_apply_again() -> None:
    applications.check_first_application([earlier(S.WITHDRAWN)], VACANCY)


def test_another_vacancy_an_internship_or_an_open_application_is_no_second_application() -> None:
    others = [earlier(S.ACTIVE, uuid4()), earlier(S.ACTIVE, VACANCY, VolunteerKind.INTERN), earlier(S.APPLIED, None)]
    applications.check_first_application(others, VACANCY)
    applications.check_first_application(others, None)


def test_the_earlier_application_is_named_only_to_who_may_see_it() -> None:
    first = earlier(S.INTAKE)
    with pytest.raises(Conflict) as hidden:
        applications.check_first_application([first], VACANCY)
    with pytest.raises(Conflict) as shown:
        applications.check_first_application([first], VACANCY, may_see=True)

    assert hidden.value.extra == {}
    assert shown.value.extra == {"volunteer_id": str(first.volunteer_id), "state": "intake"}
