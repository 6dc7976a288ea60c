"""Partners' API keys: issued once, kept as a hash, listed and revoked; a key acts within its scopes only."""

from __future__ import annotations

import pytest

from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.api_keys import AuthenticateApiKey
from shared.errors import Forbidden
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.waiting import PATIENCE_SECONDS


async def issue(platform: RunningPlatform, token: str, partner_id: str, *scopes: str) -> dict:
    async with platform.client(token) as api:
        response = await api.post(
            f"/api/v1/partners/{partner_id}/api-keys", json={"name": "intake-systeem", "scopes": list(scopes)}
        )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_key_is_shown_once_and_works_within_its_scopes(platform: RunningPlatform, tenant: Tenant) -> None:
    issued = await issue(platform, tenant.partner_a_token, tenant.partner_a, "feed:read", "referrals:write")
    key = issued["key"]
    assert key.startswith("pnk_") and len(key) > 40
    async with platform.client(tenant.partner_a_token) as api:
        (listed,) = (await api.get(f"/api/v1/partners/{tenant.partner_a}/api-keys")).json()["items"]
    assert listed == issued["api_key"] and key not in str(listed)
    assert key.startswith(listed["prefix"]) and listed["scopes"] == ["feed:read", "referrals:write"]
    async with platform.client() as anonymous:
        headers = {"X-API-Key": key}
        feed = await anonymous.get(f"/api/v1/partners/{tenant.partner_a}/feed", headers=headers)
        assert feed.status_code == 200, feed.text
        other_feed = await anonymous.get(f"/api/v1/partners/{tenant.partner_b}/feed", headers=headers)
        assert other_feed.status_code == 404
        referral = await anonymous.post(
            "/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a), headers=headers
        )
        assert referral.status_code == 201, referral.text
        # No scope for partnerships, and keys never manage keys (not even with the scope for it).
        assert (await anonymous.get("/api/v1/partnerships", headers=headers)).status_code == 403
    manager = await issue(platform, tenant.partner_a_token, tenant.partner_a, "api-keys:write")
    async with platform.client() as anonymous:
        escalation = await anonymous.post(
            f"/api/v1/partners/{tenant.partner_a}/api-keys",
            json={"name": "alles", "scopes": ["partners:write"]},
            headers={"X-API-Key": manager["key"]},
        )
    assert escalation.status_code == 403


async def test_a_revoked_key_opens_nothing(platform: RunningPlatform, tenant: Tenant) -> None:
    issued = await issue(platform, tenant.partner_b_token, tenant.partner_b, "feed:read")
    assert issued["api_key"]["created_by"].startswith("test-partner")
    async with platform.client(tenant.partner_b_token) as api:
        revoked = await api.delete(f"/api/v1/partners/{tenant.partner_b}/api-keys/{issued['api_key']['id']}")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        assert (await api.get(f"/api/v1/partners/{tenant.partner_b}/api-keys")).json()["items"] == []
        everything = await api.get(f"/api/v1/partners/{tenant.partner_b}/api-keys", params={"include_revoked": True})
        assert len(everything.json()["items"]) == 1
    async with platform.client() as anonymous:
        refused = await anonymous.get(f"/api/v1/partners/{tenant.partner_b}/feed", headers={"X-API-Key": issued["key"]})
    assert refused.status_code == 401


async def test_keys_are_managed_by_the_partner_itself(
    platform: RunningPlatform, tenant: Tenant, elsewhere: Tenant
) -> None:
    # Every other role and party: tests/security/test_credentials.py.
    for token, status in ((tenant.partner_b_token, 404), (elsewhere.staff_a, 403)):
        async with platform.client(token) as api:
            response = await api.post(
                f"/api/v1/partners/{tenant.partner_a}/api-keys", json={"name": "x", "scopes": ["feed:read"]}
            )
        assert response.status_code == status
    async with platform.client(tenant.partner_a_token) as api:
        bad_scope = await api.post(
            f"/api/v1/partners/{tenant.partner_a}/api-keys", json={"name": "x", "scopes": ["everything"]}
        )
    assert bad_scope.status_code == 422


async def test_only_the_platform_asks_whose_a_key_is(platform: RunningPlatform, tenant: Tenant) -> None:
    issued = await issue(platform, tenant.partner_a_token, tenant.partner_a, "feed:read")
    rpc = RpcClient(platform.services["partners"].broker.connection, timeout=PATIENCE_SECONDS)
    system = Actor(subject="system", role=Role.OPERATOR)
    identity = await rpc.call(ops.AUTHENTICATE_API_KEY, system, AuthenticateApiKey(key=issued["key"]))
    assert str(identity.partner_id) == tenant.partner_a and identity.municipality == tenant.municipality
    assert identity.scopes == ["feed:read"]
    staff = Actor(subject="st", role=Role.STAFF, municipality=tenant.municipality, library=tenant.library_a)
    with pytest.raises(Forbidden):
        await rpc.call(ops.AUTHENTICATE_API_KEY, staff, AuthenticateApiKey(key=issued["key"]))
