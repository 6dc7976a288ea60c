"""Deadlines end to end: a clock the test holds makes a referral overdue and then expired; the referrer
sees both in its feed, and staff see the flag in their list."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from services.referrals.commands import deadlines
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.services.referrals.conftest import pooled_tenant, work_at
from tests.waiting import eventually

SECOND = timedelta(seconds=1)


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    """A fresh tenant, one of a batch registered side by side (quicker than one at a time)."""
    return await pooled_tenant(platform)


async def feed_types(platform: RunningPlatform, tenant: Tenant, referral_id: str) -> list[str]:
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.get(f"/api/v1/partners/{tenant.partner_a}/feed", params={"limit": 200})
    assert response.status_code == 200, response.text
    return [
        entry["type"].removeprefix("nl.partnernet.")
        for entry in response.json()["items"]
        if entry["data"].get("referral_id") == referral_id
    ]


async def test_an_unanswered_referral_is_overdue_then_expired_in_the_list_and_the_referrers_feed(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    referral: dict[str, Any] = response.json()
    respond_by = datetime.fromisoformat(referral["respond_by"])

    work, clock = work_at(platform, respond_by + SECOND)
    assert await deadlines.mark_overdue(work, library=tenant.library_a) == 1
    async with platform.client(tenant.staff_a) as api:
        (listed,) = (await api.get("/api/v1/referrals", params={"overdue": "true"})).json()["items"]
    assert (listed["id"], listed["overdue"], listed["status"]) == (referral["id"], True, "submitted")

    async def overdue_in_feed() -> bool:
        return "referral.overdue.v1" in await feed_types(platform, tenant, referral["id"])

    await eventually(overdue_in_feed, what="referral.overdue in the referring partner's feed")

    clock.advance(datetime.fromisoformat(referral["expires_at"]) - clock.now() + SECOND)
    assert await deadlines.expire_unanswered(work, library=tenant.library_a) == 1
    async with platform.client(tenant.staff_a) as api:
        expired = (await api.get(f"/api/v1/referrals/{referral['id']}")).json()
    assert (expired["status"], expired["overdue"], expired["version"]) == ("expired", False, 2)
    assert [entry["step"] for entry in expired["history"]] == ["submit", "mark_overdue", "expire"]

    async def expired_in_feed() -> list[str] | None:
        types = await feed_types(platform, tenant, referral["id"])
        return types if "referral.expired.v1" in types else None

    assert await eventually(expired_in_feed, what="referral.expired in the referring partner's feed") == [
        "referral.submitted.v1",
        "referral.overdue.v1",
        "referral.expired.v1",
    ]
