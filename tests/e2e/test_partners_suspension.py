"""Suspending a partner at the gateway makes the referrals service refuse its new referrals; reactivating undoes it."""

from __future__ import annotations

from typing import Any

import httpx

from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.waiting import eventually


async def try_referral(platform: RunningPlatform, tenant: Tenant) -> httpx.Response:
    async with platform.client(tenant.partner_a_token) as api:
        return await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))


async def test_a_suspended_partner_can_make_no_new_referrals_until_it_is_reactivated(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    assert (await try_referral(platform, tenant)).status_code == 201
    coordinator = platform.token(Role.COORDINATOR, municipality=tenant.municipality)
    async with platform.client(coordinator) as api:
        suspended = await api.post(
            f"/api/v1/partners/{tenant.partner_a}/suspend", json={"reason": "klachten over doorverwijzingen"}
        )
    assert suspended.status_code == 200, suspended.text

    async def refused() -> dict[str, Any] | None:
        response = await try_referral(platform, tenant)
        return response.json() if 400 <= response.status_code < 500 else None

    problem = await eventually(refused, what="the referrals service to refuse the suspended partner")
    assert problem["type"].startswith("urn:partnernet:problem:")
    assert "suspended" in problem["detail"]

    async with platform.client(coordinator) as api:
        assert (await api.post(f"/api/v1/partners/{tenant.partner_a}/reactivate")).status_code == 200

    async def accepted_again() -> bool:
        return (await try_referral(platform, tenant)).status_code == 201

    await eventually(accepted_again, what="the reactivated partner's referrals to be accepted again")
