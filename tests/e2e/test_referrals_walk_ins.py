"""Walk-ins and self-referrals over HTTP: the library's staff log someone who came without any partner; no partner
sees it, finds it or gets an event about it, and the library takes every step itself."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from services.partners.store import feed_entries
from tests.e2e.test_referrals_consent import feed_of, read
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import consent_body, referral_body
from tests.services.referrals.conftest import event_types, pooled_tenant
from tests.waiting import eventually

PERSON = {"name": "Ilse Walker", "phone": "0687654321"}


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    return await pooled_tenant(platform)


def walk_in_body(tenant: Tenant, arrival: str = "walk_in", **overrides: Any) -> dict[str, Any]:
    body = referral_body(tenant.library_a, tenant.partner_a, participant=PERSON, arrival=arrival)
    del body["referring_partner_id"]
    body["consent"] = consent_body(library=tenant.library_a, shares=["contact_details", "reason"])
    return body | overrides


async def log(platform: RunningPlatform, token: str, body: dict[str, Any]) -> Any:
    async with platform.client(token) as api:
        return await api.post("/api/v1/referrals", json=body)


@pytest.mark.parametrize("arrival", ["walk_in", "self_referral"])
async def test_staff_log_a_walk_in_that_no_partner_sees_or_hears_of(
    platform: RunningPlatform, tenant: Tenant, arrival: str
) -> None:
    logged = await log(platform, tenant.staff_a, walk_in_body(tenant, arrival))
    assert logged.status_code == 201, logged.text
    walk_in = logged.json()
    assert (walk_in["arrival"], walk_in["referring_partner_id"], walk_in["receiving_partner_id"]) == (
        arrival,
        None,
        None,
    )
    assert (await read(platform, tenant.staff_a, walk_in["id"]))["participant"]["name"] == PERSON["name"]

    for token in (tenant.partner_a_token, tenant.partner_b_token):
        async with platform.client(token) as api:
            assert (await api.get(f"/api/v1/referrals/{walk_in['id']}")).status_code == 404
            listed = (await api.get("/api/v1/referrals")).json()["items"]
        assert walk_in["id"] not in [item["id"] for item in listed]

    # A partner's referral after it: once that is in the partner's feed, the walk-in was handled before it.
    later = (await log(platform, tenant.partner_a_token, referral_body(tenant.library_a, tenant.partner_a))).json()

    async def later_in_feed() -> bool:
        return bool(await feed_of(platform, tenant, later["id"]))

    await eventually(later_in_feed, what="the partner's own referral in its feed")
    assert await event_types(platform.settings.nats_url, tenant.municipality, UUID(walk_in["id"])) == [
        "referral.submitted.v2"
    ]
    assert await feed_of(platform, tenant, walk_in["id"]) == []
    async with platform.services["partners"].sessions() as session:
        entries = feed_entries.c.data["referral_id"].astext == walk_in["id"]
        assert (
            await session.execute(sa.select(sa.func.count()).where(entries))
        ).scalar_one() == 0  # in no partner's feed, so in no webhook delivery either


async def test_the_library_takes_every_step_of_a_walk_in_itself(platform: RunningPlatform, tenant: Tenant) -> None:
    walk_in = (await log(platform, tenant.staff_a, walk_in_body(tenant))).json()
    async with platform.client(tenant.staff_a) as api:
        accepted = await api.post(f"/api/v1/referrals/{walk_in['id']}/accept")
        withdrawn = await api.post(f"/api/v1/referrals/{walk_in['id']}/withdraw", json={"reason": "no_longer_needed"})
    assert accepted.status_code == 200, accepted.text
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


async def test_only_the_librarys_own_staff_log_a_walk_in_and_it_names_no_partner(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    by_partner = await log(platform, tenant.partner_a_token, walk_in_body(tenant))
    assert by_partner.status_code == 403
    elsewhere = await log(platform, tenant.staff_b, walk_in_body(tenant))
    assert elsewhere.status_code == 403
    with_partner = await log(platform, tenant.staff_a, walk_in_body(tenant, referring_partner_id=tenant.partner_a))
    assert with_partner.status_code == 422
    assert (
        with_partner.json()["detail"] == "a walk-in or self-referral names no partner: the participant came without one"
    )
    async with platform.client(tenant.staff_a) as api:
        assert (await api.get("/api/v1/referrals")).json()["items"] == []
