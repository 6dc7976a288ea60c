"""Who sees how much of a course's residents (services/courses/domain/residents.py): the library that runs or hosts
it name and contact, the partner giving it names, everyone else nothing (a course in sight: forbidden; out of
sight: not found). Pure: no servers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.courses.domain.offer import CourseScope
from services.courses.domain.residents import RETAINED_FOR, check_may_erase, check_resident_detail, kept_until
from shared.contracts.courses.api.courses import CourseStatus
from shared.contracts.courses.api.residents import ResidentDetail
from shared.errors import Forbidden, NotFound
from shared.tenancy import Actor, Role

GIVER = uuid.uuid4()
HOSTED = CourseScope(
    id=uuid.uuid4(), municipality="m", library="lib-a", offered_by_partner_id=GIVER, status=CourseStatus.PUBLISHED
)
OWN = CourseScope(
    id=uuid.uuid4(), municipality="m", library="lib-a", offered_by_partner_id=None, status=CourseStatus.PUBLISHED
)


def staff(library: str, municipality: str = "m") -> Actor:
    return Actor(subject="s", role=Role.STAFF, library=library, municipality=municipality)


def partner(partner_id: uuid.UUID | None) -> Actor:
    return Actor(
        subject="p", role=Role.PARTNER, municipality="m", partner=None if partner_id is None else str(partner_id)
    )


@pytest.mark.parametrize(
    ("actor", "course", "seen"),
    [
        (staff("lib-a"), OWN, ResidentDetail.CONTACT),
        (staff("lib-a"), HOSTED, ResidentDetail.CONTACT),
        (partner(GIVER), HOSTED, ResidentDetail.NAME),
        (staff("lib-b"), OWN, Forbidden),
        (partner(uuid.uuid4()), HOSTED, Forbidden),
        (partner(GIVER), OWN, Forbidden),
        (partner(None), HOSTED, Forbidden),  # the public calendar's actor: a partner role with no partner
        (Actor(subject="c", role=Role.COORDINATOR, municipality="m"), OWN, Forbidden),
        (Actor(subject="o", role=Role.OPERATOR), OWN, Forbidden),
        (staff("lib-z", municipality="elsewhere"), OWN, NotFound),
        (Actor(subject="c", role=Role.COORDINATOR, municipality="elsewhere"), OWN, NotFound),
    ],
)
def test_who_sees_how_much_of_the_residents(actor: Actor, course: CourseScope, seen: object) -> None:
    municipality = actor.municipality
    if isinstance(seen, ResidentDetail):
        assert check_resident_detail(actor, course, municipality) is seen
    else:
        assert isinstance(seen, type)
        with pytest.raises(seen):
            check_resident_detail(actor, course, municipality)


def test_only_the_librarys_staff_erase() -> None:
    check_may_erase(staff("lib-a"), HOSTED, "m")
    with pytest.raises(Forbidden):
        check_may_erase(partner(GIVER), HOSTED, "m")


def test_data_is_kept_for_the_retention_after_the_session_ends_or_the_registration_closes() -> None:
    ends = datetime(2030, 5, 1, 12, tzinfo=UTC)
    closed = datetime(2030, 4, 1, 12, tzinfo=UTC)
    assert kept_until(None, ends) == ends + RETAINED_FOR
    assert kept_until(closed, ends) == closed + RETAINED_FOR
