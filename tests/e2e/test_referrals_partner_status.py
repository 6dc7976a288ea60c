"""A suspended partner's new referrals are refused at the gateway with a clear problem; its old ones go on."""

from __future__ import annotations

from uuid import UUID

import pytest
import sqlalchemy as sa

from services.referrals import store
from shared.contracts.partners.events import PartnerSuspended
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.services.referrals.conftest import envelope_of, pooled_tenant, publish_event
from tests.waiting import eventually


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    """A fresh tenant, one of a batch registered side by side (quicker than one at a time)."""
    return await pooled_tenant(platform)


async def test_a_referral_from_a_suspended_partner_is_refused(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        earlier = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    assert earlier.status_code == 201
    suspended = PartnerSuspended(partner_id=UUID(tenant.partner_a), municipality=tenant.municipality, reason="audit")
    await publish_event(
        platform.settings.nats_url, envelope_of(suspended, municipality=tenant.municipality, library=None)
    )

    async def suspension_known() -> bool:
        async with platform.services["referrals"].sessions() as session:
            status = (
                await session.execute(
                    sa.select(store.known_partners.c.status).where(store.known_partners.c.id == UUID(tenant.partner_a))
                )
            ).scalar_one()
        return bool(status == "suspended")

    # Waiting by reading, not by trying to submit: a try that came before the suspension would be a referral.
    await eventually(suspension_known, what="the suspension to reach the referrals service")
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"] == "urn:partnernet:problem:conflict"
    assert problem["detail"] == (
        f"referring partner {tenant.partner_a} is suspended: it takes part in no new referrals"
    )
    assert (problem["partner_id"], problem["partner_status"]) == (tenant.partner_a, "suspended")
    async with platform.services["referrals"].sessions() as session:
        count = (
            await session.execute(
                sa.select(sa.func.count()).where(store.referrals.c.referring_partner_id == UUID(tenant.partner_a))
            )
        ).scalar_one()
    assert count == 1  # only the one from before the suspension
    async with platform.client(tenant.staff_a) as api:  # that one is still handled
        assert (await api.post(f"/api/v1/referrals/{earlier.json()['id']}/accept")).status_code == 200
