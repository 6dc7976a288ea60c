"""Partners and partnerships over HTTP: registration and its validation, updates with versions, the lifecycle."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from services.partners.commands.partnerships import end_lapsed_partnerships
from shared.clock import local_today
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.waiting import eventually

FULL_PARTNER: dict[str, Any] = {
    "name": "Taalhuis Noord",
    "kind": "adult_education_school",
    "chamber_of_commerce_number": "41178553",
    "addresses": [{"street": "Kerkstraat", "house_number": "12a", "postcode": "3511 AB", "city": "Zuidstad"}],
    "contacts": [
        {"name": "Els de Vries", "roles": ["primary", "referrals"], "email": "els@taalhuis.example"},
        {"name": "Mo Haddou", "roles": ["technical"], "phone": "030-1234567"},
    ],
    "skill_areas": ["language", "digital", "language"],
    "website": "https://taalhuis.example",
}


async def partner_names(platform: RunningPlatform, tenant: Tenant) -> list[str]:
    async with platform.client(tenant.staff_a) as api:
        response = await api.get("/api/v1/partners", params={"limit": 200})
    assert response.status_code == 200, response.text
    return [p["name"] for p in response.json()["items"]]


async def test_a_partner_is_registered_with_its_contact_details(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client(tenant.staff_a) as api:
        response = await api.post("/api/v1/partners", json={**FULL_PARTNER, "municipality": tenant.municipality})
        assert response.status_code == 201, response.text
        partner = response.json()
        again = (await api.get(f"/api/v1/partners/{partner['id']}")).json()
    assert partner == again
    assert partner["status"] == "active" and partner["version"] == 1
    assert partner["skill_areas"] == ["language", "digital"]  # each once
    assert partner["contacts"][0]["roles"] == ["primary", "referrals"]
    assert partner["addresses"][0]["kind"] == "visiting"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"chamber_of_commerce_number": "1234567"}, "chamber_of_commerce_number"),
        ({"chamber_of_commerce_number": "1234567a"}, "chamber_of_commerce_number"),
        ({"kind": "bakery"}, "kind"),
        ({"addresses": [{"street": "X", "house_number": "1", "postcode": "0123 AB", "city": "Y"}]}, "postcode"),
        ({"contacts": [{"name": "Nobody", "roles": []}]}, "roles"),
    ],
    ids=["kvk-seven-digits", "kvk-with-a-letter", "unknown-kind", "bad-postcode", "contact-without-role"],
)
async def test_invalid_partners_are_a_clear_422_and_nothing_is_written(
    platform: RunningPlatform, tenant: Tenant, change: dict[str, Any], field: str
) -> None:
    name = f"Ongeldig {uuid.uuid4().hex[:6]}"
    body = {**FULL_PARTNER, "name": name, "municipality": tenant.municipality, **change}
    async with platform.client(tenant.staff_a) as api:
        response = await api.post("/api/v1/partners", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "urn:partnernet:problem:invalid-input"
    assert field in str(problem)
    assert name not in await partner_names(platform, tenant)


async def test_updates_need_the_current_version_and_partners_change_only_their_contact_details(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    partner_token = platform.token(Role.PARTNER, municipality=tenant.municipality, partner=tenant.partner_a)
    path = f"/api/v1/partners/{tenant.partner_a}"
    async with platform.client(tenant.staff_a) as staff:
        first = await staff.patch(path, json={"skill_areas": ["numeracy"]}, headers={"If-Match": '"1"'})
        assert first.status_code == 200, first.text
        assert first.json()["version"] == 2 and first.headers["etag"] == '"2"'
        stale = await staff.patch(path, json={"website": "https://uwv.example"}, headers={"If-Match": '"1"'})
        assert stale.status_code == 409
        assert stale.json()["current"]["version"] == 2
    async with platform.client(partner_token) as partner:
        own = await partner.patch(path, json={"contacts": [{"name": "Jan", "roles": ["referrals"]}]})
        assert own.status_code == 200, own.text
        assert own.json()["contacts"][0]["name"] == "Jan"
        renamed = await partner.patch(path, json={"name": "Zelfbedacht"})
        assert renamed.status_code == 403
        other = await partner.patch(f"/api/v1/partners/{tenant.partner_b}", json={"website": "https://x.example"})
        assert other.status_code == 404


async def test_suspension_is_the_coordinators_and_follows_the_lifecycle(
    platform: RunningPlatform, tenant: Tenant, elsewhere: Tenant
) -> None:
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    other_coordinator = platform.token(Role.COORDINATOR, municipality=elsewhere.municipality)
    path = f"/api/v1/partners/{tenant.partner_b}"
    async with platform.client(tenant.staff_a) as staff:
        assert (await staff.post(f"{path}/suspend")).status_code == 403
    async with platform.client(other_coordinator) as other:
        assert (await other.post(f"{path}/suspend")).status_code == 404
    async with platform.client(coordinator) as api:
        suspended = await api.post(f"{path}/suspend", json={"reason": "onderzoek naar klachten"})
        assert suspended.status_code == 200, suspended.text
        assert suspended.json()["status"] == "suspended"
        assert suspended.json()["status_reason"] == "onderzoek naar klachten"
        twice = await api.post(f"{path}/suspend")
        assert twice.status_code == 409
        assert twice.json()["type"] == "urn:partnernet:problem:illegal-transition"
        assert (await api.post(f"{path}/reactivate")).json()["status"] == "active"
        ended = await api.post(f"{path}/end", headers={"If-Match": '"3"'})
        assert ended.status_code == 200, ended.text
        assert ended.json()["status"] == "ended"
        assert (await api.post(f"{path}/reactivate")).status_code == 409
        assert (await api.patch(path, json={"website": "https://weg.example"})).status_code == 409


async def test_staff_make_partnerships_for_their_own_library_only(platform: RunningPlatform, tenant: Tenant) -> None:
    body = {
        "library": tenant.library_a,
        "partner_id": tenant.partner_a,
        "roles": ["referrer", "outreach_partner"],
        "library_contributions": ["location", "guidance"],
        "partner_contributions": ["recruitment"],
        "starts_on": "2026-01-01",
        "ends_on": "2027-12-31",
        "review_on": "2026-12-01",
    }
    async with platform.client(tenant.staff_b) as other_library:
        refused = await other_library.post("/api/v1/partnerships", json=body)
        assert refused.status_code == 403
    async with platform.client(tenant.staff_a) as api:
        bad_dates = await api.post("/api/v1/partnerships", json={**body, "ends_on": "2025-12-31"})
        assert bad_dates.status_code == 422
        created = await api.post("/api/v1/partnerships", json=body)
        assert created.status_code == 201, created.text
        partnership = created.json()
        assert partnership["status"] == "draft" and partnership["version"] == 1
        duplicate = await api.post("/api/v1/partnerships", json=body)
        assert duplicate.status_code == 409
        path = f"/api/v1/partnerships/{partnership['id']}"
        changed = await api.patch(path, json={"roles": ["referrer"]}, headers={"If-Match": '"1"'})
        assert changed.status_code == 200, changed.text
        assert changed.json()["roles"] == ["referrer"]
        active = await api.post(f"{path}/activate", headers={"If-Match": '"2"'})
        assert active.status_code == 200, active.text
        assert active.json()["status"] == "active" and active.json()["activated_at"]
        assert (await api.post(f"{path}/activate")).status_code == 409
        ended = await api.post(f"{path}/end", json={"reason": "project afgerond"})
        assert ended.json()["status"] == "ended" and ended.json()["end_reason"] == "project afgerond"
        assert (await api.patch(path, json={"note": "te laat"})).status_code == 409
        # After it ended, a new partnership of the same two may start.
        assert (await api.post("/api/v1/partnerships", json=body)).status_code == 201
        listed = (await api.get("/api/v1/partnerships", params={"partner_id": tenant.partner_a})).json()
    assert [p["status"] for p in listed["items"]] == ["ended", "draft"]


async def test_a_suspended_partner_cannot_start_a_partnership(platform: RunningPlatform, tenant: Tenant) -> None:
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    body = {
        "library": tenant.library_a,
        "partner_id": tenant.partner_b,
        "roles": ["referrer"],
        "starts_on": "2026-01-01",
    }
    async with platform.client(tenant.staff_a) as api:
        draft = (await api.post("/api/v1/partnerships", json=body)).json()
        async with platform.client(coordinator) as coord:
            assert (await coord.post(f"/api/v1/partners/{tenant.partner_b}/suspend")).status_code == 200
        refused = await api.post(f"/api/v1/partnerships/{draft['id']}/activate")
    assert refused.status_code == 409
    assert "suspended" in refused.json()["detail"]


async def test_ending_a_partner_ends_its_partnerships(platform: RunningPlatform, tenant: Tenant) -> None:
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    body = {
        "library": tenant.library_b,
        "partner_id": tenant.partner_b,
        "roles": ["referrer"],
        "starts_on": "2026-01-01",
    }
    async with platform.client(tenant.staff_b) as api:
        created = (await api.post("/api/v1/partnerships", json=body)).json()
        await api.post(f"/api/v1/partnerships/{created['id']}/activate")
        async with platform.client(coordinator) as coord:
            assert (await coord.post(f"/api/v1/partners/{tenant.partner_b}/end")).status_code == 200

        async def ended() -> dict[str, Any] | None:
            seen = (await api.get(f"/api/v1/partnerships/{created['id']}")).json()
            return seen if seen["status"] == "ended" else None

        partnership = await eventually(ended, what="the partnership to end with its partner")
    assert partnership["end_reason"] == "the partner ended"


async def test_an_active_partnership_ends_by_itself_after_its_end_date(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    ends_on = local_today() + timedelta(days=30)
    body = {
        "library": tenant.library_a,
        "partner_id": tenant.partner_a,
        "roles": ["course_provider"],
        "starts_on": "2026-01-01",
        "ends_on": ends_on.isoformat(),
    }
    async with platform.client(tenant.staff_a) as api:
        created = (await api.post("/api/v1/partnerships", json=body)).json()
        assert (await api.post(f"/api/v1/partnerships/{created['id']}/activate")).status_code == 200
        work = platform.services["partners"].unit_of_work
        assert await end_lapsed_partnerships(work, today=ends_on) == 0  # its last day
        assert await end_lapsed_partnerships(work, today=ends_on + timedelta(days=1)) >= 1
        seen = (await api.get(f"/api/v1/partnerships/{created['id']}")).json()
    assert seen["status"] == "ended" and seen["end_reason"] == "its end date passed"
