"""Partners' acts in the figures (issue 24), over HTTP against the real platform: what a volunteer organisation, a
school, a course provider and a referrer did for the library shows per partner in the overview (`acts`, this calendar
year) and in the annual report's partner-acts table (small counts of people hidden), counted by the volunteers and
courses services' `partner_acts` operations for any period: another period counts none of it, another library's staff
see none of it, and a partner may not ask.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from shared.clock import local_today
from shared.contracts.courses.api import operations as course_ops
from shared.contracts.courses.api.statistics import GetCoursesPartnerActs
from shared.contracts.volunteers.api import operations as volunteer_ops
from shared.contracts.volunteers.api.statistics import GetVolunteerPartnerActs
from shared.errors import Forbidden
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role
from tests.e2e.test_referrers_ask_tailored_education import PATH, accepted_referral, enrol, request_body
from tests.e2e.test_schools_follow_interns import register
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.courses.support import (
    course_body,
    course_tenant,
    meetings,
    partnership_known_to_courses,
    partnership_state_known,
    published_course_with_session,
)
from tests.services.volunteers.volunteer_tenant import (
    VolunteerTenant,
    activate_partnership,
    active_volunteer,
    bring_training,
    call,
    course_needing_volunteers,
    module_body,
    opening_for,
    start_intern,
    volunteer_tenant,
)
from tests.waiting import PATIENCE_SECONDS, eventually


def acts_of(overview: dict[str, Any], partner_id: str) -> dict[str, Any] | None:
    found = [p for p in overview["partners"] if p["partner_id"] == partner_id]
    return found[0]["acts"] if found else None


async def overview_acts(platform: RunningPlatform, token: str, partner_id: str) -> dict[str, Any] | None:
    overview = await call(platform, token, "GET", "/api/v1/overview")
    assert overview["complete"] is True, overview["missing"]
    return acts_of(overview, partner_id)


async def annual_row(platform: RunningPlatform, token: str, partner_id: str) -> dict[str, Any]:
    """The partner's row of the annual report's partner-acts table this year, as published (small counts hidden)."""
    report = await call(platform, token, "GET", "/api/v1/reports/annual", year=local_today().year)
    assert not isinstance(report, httpx.Response), report.text
    (table,) = [t for t in report["tables"] if t["id"] == "partner-acts"]
    (row,) = [r for r in table["rows"] if r["key"] == partner_id]
    return dict(row["values"])


def last_year() -> tuple[date, date]:
    year = local_today().year - 1
    return date(year, 1, 1), date(year, 12, 31)


@pytest.fixture(scope="module")
async def vt(platform: RunningPlatform) -> VolunteerTenant:
    return await volunteer_tenant(platform)


async def test_a_volunteer_organisations_trainings_and_a_schools_interns_show_in_the_overview_per_partner(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    # The organisation gives a training session (an hour ago) to one of the library's volunteers, who attends.
    await bring_training(platform, vt, vt.organisation)
    module = await call(platform, vt.organisation_token, "POST", "/api/v1/trainings/modules", module_body(vt.library_a))
    started = datetime.now(UTC) - timedelta(hours=1)
    session = await call(
        platform,
        vt.organisation_token,
        "POST",
        f"/api/v1/trainings/modules/{module['id']}/sessions",
        {"starts_at": started.isoformat(), "place": "Wijkcentrum De Brug", "capacity": 10},
    )
    assert not isinstance(session, httpx.Response), session.text
    for attended in (True, False):
        volunteer = await active_volunteer(platform, vt)
        recorded = await call(
            platform,
            vt.organisation_token,
            "POST",
            f"/api/v1/trainings/sessions/{session['id']}/attendance",
            {"volunteer_id": volunteer["id"], "attended": attended, "completed": attended},
        )
        assert not isinstance(recorded, httpx.Response), recorded.text
    # The school's intern works four hours for the library.
    intern = await register(platform, vt, "Fenna Telling")
    await start_intern(platform, vt, intern["id"])
    opening = await opening_for(platform, vt, await course_needing_volunteers(platform, vt, 1, title="Digicafé"))
    assignment = await call(
        platform,
        vt.staff_a,
        "POST",
        "/api/v1/assignments",
        {"volunteer_id": intern["id"], "kind": "course", "opening_id": opening["id"]},
    )
    logged = await call(
        platform,
        vt.staff_a,
        "POST",
        f"/api/v1/assignments/{assignment['id']}/hours",
        {"worked_on": str(local_today()), "minutes": 240},
    )
    assert not isinstance(logged, httpx.Response), logged.text

    year = local_today().year
    for token in (vt.staff_a, vt.coordinator):
        organisation = await overview_acts(platform, token, vt.organisation)
        assert organisation is not None
        assert (organisation["period_from"], organisation["period_until"]) == (f"{year}-01-01", f"{year}-12-31")
        assert (organisation["trainings_given"], organisation["training_attendances"]) == (1, 1)
        assert (organisation["interns_supplied"], organisation["partner_run_courses"]) == (0, 0)
        school = await overview_acts(platform, token, vt.school)
        assert school is not None
        assert (school["interns_supplied"], school["intern_minutes"], school["trainings_given"]) == (1, 240, 0)
    # Library B's staff see none of library A's partners' acts.
    assert await overview_acts(platform, vt.base.staff_b, vt.organisation) is None
    # The annual report has them too, small counts of people hidden (fewer than 5).
    organisation_row = await annual_row(platform, vt.coordinator, vt.organisation)
    assert (organisation_row["trainings_given"], organisation_row["training_attendances"]) == (1, "<5")
    school_row = await annual_row(platform, vt.coordinator, vt.school)
    assert (school_row["interns_supplied"], school_row["intern_hours"]) == ("<5", "*")

    # The volunteers service's operation, as the annual report calls it: another period counts nothing.
    rpc = RpcClient(platform.services["courses"].broker.connection, timeout=PATIENCE_SECONDS)
    coordinator = Actor(subject="report", role=Role.COORDINATOR, municipality=vt.municipality)
    before = await rpc.call(
        volunteer_ops.VOLUNTEER_PARTNER_ACTS,
        coordinator,
        GetVolunteerPartnerActs(period_from=last_year()[0], period_until=last_year()[1]),
    )
    assert [p.partner_id for p in before.partners if str(p.partner_id) in (vt.organisation, vt.school)] == []


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    tenant = await course_tenant(platform)
    referrer = await activate_partnership(platform, tenant, tenant.partner_a, tenant.library_a, "referrer")
    await partnership_state_known(platform, referrer, ended=False)
    await partnership_known_to_courses(platform, tenant, tenant.partner_b, tenant.library_a)
    return tenant


async def test_a_partner_run_course_and_a_referrers_tailored_education_show_in_the_overview_per_partner(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    # Partner B runs a course in library A this year; one participant has a place.
    body = course_body(library=tenant.library_a, details={"title": "SeniorWeb: veilig bankieren"})
    course = await call(platform, tenant.partner_b_token, "POST", "/api/v1/courses", body)
    assert not isinstance(course, httpx.Response), course.text
    await call(platform, tenant.partner_b_token, "POST", f"/api/v1/courses/{course['id']}/publish")
    starts = min(datetime.now(UTC) + timedelta(hours=2), datetime(local_today().year, 12, 31, 20, tzinfo=UTC))
    session = await call(
        platform,
        tenant.partner_b_token,
        "POST",
        f"/api/v1/courses/{course['id']}/sessions",
        {"meetings": meetings(starts, 1), "capacity": 8, "place": "Leeszaal"},
    )
    assert not isinstance(session, httpx.Response), session.text
    placed = await call(
        platform,
        tenant.staff_a,
        "POST",
        f"/api/v1/sessions/{session['id']}/enrolments",
        {"participant_pseudonym": "P-SENIORACT1"},
    )
    assert placed["status"] == "confirmed", placed
    # Partner A asks twice: one request is planned (and one of its referrals takes a kept place), one declined.
    planned = await call(platform, tenant.partner_a_token, "POST", PATH, request_body(tenant.library_a, clients=2))
    declined = await call(platform, tenant.partner_a_token, "POST", PATH, request_body(tenant.library_a))
    own, own_session = await published_course_with_session(platform, tenant.staff_a, capacity=4)
    answer = {"decision": "plan", "course_id": own["id"]}
    assert (await call(platform, tenant.staff_a, "POST", f"{PATH}/{planned['id']}/answer", answer))["status"] == (
        "planned"
    )
    no = {"decision": "decline", "reason": "geen docent"}
    assert (await call(platform, tenant.staff_a, "POST", f"{PATH}/{declined['id']}/answer", no))["status"] == (
        "declined"
    )
    referral = await accepted_referral(platform, tenant, tenant.partner_a_token, tenant.partner_a)
    assert (await enrol(platform, tenant, own_session["id"], referral["id"]))["status"] == "confirmed"

    async def counted(token: str, partner_id: str) -> dict[str, Any]:
        async def found() -> dict[str, Any] | None:
            return await overview_acts(platform, token, partner_id)

        return await eventually(found, what="the partner's acts in the overview")

    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    for token in (tenant.staff_a, coordinator):
        provider = await counted(token, tenant.partner_b)
        assert (provider["partner_run_courses"], provider["partner_run_enrolments"]) == (1, 1)
        assert provider["education_requests"] == 0
        referrer = await counted(token, tenant.partner_a)
        assert (
            referrer["education_requests"],
            referrer["education_requests_planned"],
            referrer["education_requests_declined"],
            referrer["education_places_taken"],
        ) == (2, 1, 1, 1)
        assert referrer["partner_run_courses"] == 0
    assert await overview_acts(platform, tenant.staff_b, tenant.partner_a) is None
    provider_row = await annual_row(platform, coordinator, tenant.partner_b)
    assert (provider_row["partner_run_courses"], provider_row["partner_run_enrolments"]) == (1, "<5")
    referrer_row = await annual_row(platform, coordinator, tenant.partner_a)
    assert (
        referrer_row["education_requests"],
        referrer_row["education_requests_planned"],
        referrer_row["education_requests_declined"],
        referrer_row["education_places_taken"],
    ) == (2, 1, 1, "<5")

    rpc = RpcClient(platform.services["courses"].broker.connection, timeout=PATIENCE_SECONDS)
    staff = Actor(subject="report", role=Role.STAFF, municipality=tenant.municipality, library=tenant.library_a)
    before = await rpc.call(
        course_ops.COURSES_PARTNER_ACTS,
        staff,
        GetCoursesPartnerActs(period_from=last_year()[0], period_until=last_year()[1]),
    )
    assert before.partners == []
    partner = Actor(subject="p", role=Role.PARTNER, municipality=tenant.municipality, partner=tenant.partner_a)
    with pytest.raises(Forbidden):
        await rpc.call(
            course_ops.COURSES_PARTNER_ACTS,
            partner,
            GetCoursesPartnerActs(period_from=last_year()[0], period_until=last_year()[1]),
        )
    refused = await call(platform, tenant.partner_a_token, "GET", "/api/v1/overview")
    assert isinstance(refused, httpx.Response) and refused.status_code == 403
