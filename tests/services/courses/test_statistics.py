"""The figures the gateway's municipality overview shows: places free, waiting lists, budgets, per scope."""

from __future__ import annotations

from uuid import UUID

import pytest

from services.courses.queries.statistics import statistics
from shared.contracts.courses.api.statistics import CourseFigures, GetCoursesStatistics, PurchaseFigures
from shared.errors import Forbidden
from shared.tenancy import Actor, Role
from tests.fixtures.platform import RunningPlatform
from tests.services.courses.support import course_tenant, published_course_with_session


async def test_figures_count_places_waiting_lists_and_budgets_within_the_callers_scope(
    platform: RunningPlatform,
) -> None:
    tenant = await course_tenant(platform)
    _, session = await published_course_with_session(platform, tenant.staff_a, capacity=3)
    own_premises = {"location": {"kind": "partner_premises", "place": "Zuilen"}}
    await published_course_with_session(platform, tenant.partner_b_token, capacity=5, details=own_premises)
    async with platform.client(tenant.staff_a) as api:
        for n in range(4):
            await api.post(
                f"/api/v1/sessions/{session['id']}/enrolments", json={"participant_pseudonym": f"P-STAT{n:06d}"}
            )
    operator = platform.token(Role.OPERATOR)
    async with platform.client(operator) as api:
        budget = await api.put(f"/api/v1/budgets/{tenant.library_a}/2027", json={"amount_cents": 123_456})
        assert budget.status_code == 200, budget.text
    work = platform.services["courses"].unit_of_work

    coordinator = Actor(subject="co", role=Role.COORDINATOR, municipality=tenant.municipality)
    figures = await statistics(work, coordinator, GetCoursesStatistics(year=2027))
    by_library = {f.library: f for f in figures.libraries}
    assert set(by_library) == {tenant.library_a, tenant.library_b}
    assert by_library[tenant.library_a].courses == CourseFigures(courses=1, places=3, places_free=0, waiting_list=1)
    assert by_library[tenant.library_a].purchases == PurchaseFigures(
        budget_cents=123_456, committed_cents=0, spent_cents=0
    )
    assert by_library[tenant.library_b].courses == CourseFigures(courses=0, places=0, places_free=0, waiting_list=0)
    (partner,) = figures.partners
    assert partner.partner_id == UUID(tenant.partner_b)
    assert partner.courses == CourseFigures(courses=1, places=5, places_free=5, waiting_list=0)

    staff_b = Actor(subject="st", role=Role.STAFF, municipality=tenant.municipality, library=tenant.library_b)
    own = await statistics(work, staff_b, GetCoursesStatistics(library=tenant.library_a))
    assert [f.library for f in own.libraries] == [tenant.library_b]  # staff see their own library only
    with pytest.raises(Forbidden):
        await statistics(work, Actor(subject="p", role=Role.PARTNER, partner=tenant.partner_a), GetCoursesStatistics())
