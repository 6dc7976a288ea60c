"""Attendees of a course for a partner's staff (issue 14): the courses service holds no identity of them, only a
code the platform makes up; the partner keeps who it stands for. A typed code (which could be a name) is refused,
a code made up earlier for the same partner's staff is taken again."""

from __future__ import annotations

import pytest

from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import course_tenant, published_course_with_session


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    return await course_tenant(platform)


def training_for(partner_id: str, title: str) -> dict[str, str]:
    return {"title": title, "skill_area": "language", "audience": "partner_staff", "audience_partner_id": partner_id}


async def test_a_partners_staff_are_enrolled_by_codes_the_platform_makes_up(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    _, first = await published_course_with_session(
        platform, tenant.staff_a, capacity=12, details=training_for(tenant.partner_a, "Laaggeletterdheid herkennen")
    )
    _, second = await published_course_with_session(
        platform, tenant.staff_a, capacity=12, details=training_for(tenant.partner_a, "Verwijzen naar de bibliotheek")
    )
    async with platform.client(tenant.partner_a_token) as uwv:
        typed = await uwv.post(
            f"/api/v1/sessions/{first['id']}/enrolments", json={"participant_pseudonym": "P-JANSEN1984"}
        )
        assert typed.status_code == 422, typed.text
        assert "no typed codes" in typed.json()["detail"]
        made = await uwv.post(f"/api/v1/sessions/{first['id']}/enrolments", json={})
        assert made.status_code == 201, made.text
        code = made.json()["participant_pseudonym"]
        assert code.startswith("P-") and len(code) == 12
        # The same employee to the next training, by the code the platform gave.
        again = await uwv.post(f"/api/v1/sessions/{second['id']}/enrolments", json={"participant_pseudonym": code})
        assert again.status_code == 201, again.text
    # The library that runs it types no codes either; another partner's made-up code is not this partner's.
    async with platform.client(tenant.staff_a) as library:
        assert (
            await library.post(
                f"/api/v1/sessions/{first['id']}/enrolments", json={"participant_pseudonym": "P-ANNA0001"}
            )
        ).status_code == 422
    _, other = await published_course_with_session(
        platform, tenant.staff_a, capacity=5, details=training_for(tenant.partner_b, "Voor het sociaal team")
    )
    async with platform.client(tenant.partner_b_token) as team:
        borrowed = await team.post(f"/api/v1/sessions/{other['id']}/enrolments", json={"participant_pseudonym": code})
    assert borrowed.status_code == 422


async def test_codes_of_other_courses_are_as_before(platform: RunningPlatform, tenant: Tenant) -> None:
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=5)
    async with platform.client(
        platform.token(Role.STAFF, municipality=tenant.municipality, library=tenant.library_b)
    ) as api:
        given = await api.post(
            f"/api/v1/sessions/{session['id']}/enrolments", json={"participant_pseudonym": "P-GIVEN0001"}
        )
    assert given.status_code == 201, given.text
