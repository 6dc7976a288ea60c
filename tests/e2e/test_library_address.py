"""A library's general address over HTTP (issue 20): where the library's notices go while none of its staff chose.
The operator registers it with the library; the library's own staff (or an operator) set or clear it later with a
merge patch. Staff of another library, the coordinator and partners are refused; bad input is a 422; nothing of
theirs changes anything."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.referrals.conftest import pooled_tenant


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    return await pooled_tenant(platform)


async def address_of(platform: RunningPlatform, tenant: Tenant, library: str) -> Any:
    """As the municipality reads it (another library's staff too)."""
    async with platform.client(tenant.staff_b) as api:
        found = await api.get(f"/api/v1/libraries/{library}")
    assert found.status_code == 200, found.text
    return found.json()["email"]


async def test_a_librarys_staff_set_and_clear_its_address_and_nobody_else_can(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    library = f"bieb-{uuid.uuid4().hex[:8]}"
    async with platform.client(tenant.operator) as api:
        made = await api.post(
            "/api/v1/libraries", json={"slug": library, "municipality": tenant.municipality, "name": "Bibliotheek West"}
        )
    assert made.status_code == 201 and made.json()["email"] is None, made.text
    staff = platform.token(Role.STAFF, municipality=tenant.municipality, library=library)
    async with platform.client(staff) as api:
        first = await api.patch(f"/api/v1/libraries/{library}", json={"email": "balie@west.example"})
        bad = await api.patch(f"/api/v1/libraries/{library}", json={"email": "de balie"})
        unknown_field = await api.patch(f"/api/v1/libraries/{library}", json={"name": "Iets anders"})
        kept = await api.patch(f"/api/v1/libraries/{library}", json={})
    assert first.status_code == 200 and first.json()["email"] == "balie@west.example", first.text
    assert bad.status_code == 422 and unknown_field.status_code == 422
    assert kept.status_code == 200 and kept.json()["email"] == "balie@west.example"

    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    for token in (tenant.staff_a, coordinator, tenant.partner_a_token):
        async with platform.client(token) as api:
            refused = await api.patch(f"/api/v1/libraries/{library}", json={"email": "kaper@elders.example"})
        assert refused.status_code == 403, (refused.status_code, refused.text)
    assert await address_of(platform, tenant, library) == "balie@west.example"

    async with platform.client(tenant.operator) as api:
        missing = await api.patch("/api/v1/libraries/bieb-bestaat-niet", json={"email": "x@y.example"})
        unknown = await api.get("/api/v1/libraries/bieb-bestaat-niet")
    assert missing.status_code == 404 and unknown.status_code == 404
    async with platform.client(staff) as api:
        cleared = await api.patch(f"/api/v1/libraries/{library}", json={"email": None})
    assert cleared.status_code == 200 and cleared.json()["email"] is None
    assert await address_of(platform, tenant, library) is None
