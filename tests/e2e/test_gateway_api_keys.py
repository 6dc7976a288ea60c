"""Partners' systems with API keys: the key's partner and scopes decide; a revoked key stops within the cache TTL.

The partners service issues and checks the keys (`rpc.partners.authenticate_api_key`). Most tests use a
stub of that operation on a NATS of their own (to revoke a key and watch the cache expire within a second);
the last one goes through the real partners service on the session platform.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from launcher.embedded import EmbeddedNats
from shared.contracts.partners.api import operations as partner_ops
from shared.contracts.partners.api.api_keys import ApiKeyIdentity, AuthenticateApiKey
from shared.contracts.partners.api.feeds import FeedPage, GetFeed
from shared.contracts.referrals.api import operations as referral_ops
from shared.contracts.referrals.api.referrals import SubmitReferral
from shared.errors import InvalidInput, NotFound
from shared.settings import Settings
from shared.tenancy import Actor, Role
from tests.fixtures.platform import RunningPlatform, make_settings
from tests.fixtures.tenants import Tenant
from tests.gateway.stubs import StubbedGateway, stubbed_gateway
from tests.referral_bodies import referral_body

PARTNER = uuid.UUID("01a226a7-0000-7000-8000-0000000000bb")
CACHE_SECONDS = 0.5


class KeyRegistry:
    def __init__(self) -> None:
        self.keys: dict[str, ApiKeyIdentity] = {}
        self.lookups = 0

    def issue(self, *scopes: str) -> str:
        key = f"pnk_{uuid.uuid4().hex}"
        self.keys[key] = ApiKeyIdentity(
            key_id=uuid.uuid4(), partner_id=PARTNER, municipality="zuidstad", scopes=list(scopes)
        )
        return key

    async def authenticate(self, actor: Actor, body: AuthenticateApiKey) -> ApiKeyIdentity:
        self.lookups += 1
        if body.key not in self.keys:
            raise NotFound("no such key")
        return self.keys[body.key]


@pytest.fixture(scope="module")
async def gateway(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> AsyncIterator[StubbedGateway]:
    workdir = tmp_path_factory.mktemp("api-keys")
    with EmbeddedNats(workdir / "nats") as server:
        settings = make_settings(server.url, database_url, workdir / "data")
        async with stubbed_gateway(Settings(**{**settings.__dict__, "api_key_cache_seconds": CACHE_SECONDS})) as gw:
            yield gw


@pytest.fixture
async def registry(gateway: StubbedGateway) -> KeyRegistry:
    registry = KeyRegistry()
    await gateway.stubs.answer(partner_ops.AUTHENTICATE_API_KEY, registry.authenticate)

    async def feed(actor: Actor, query: GetFeed) -> FeedPage:
        if str(query.partner_id) != actor.partner:
            raise NotFound("no such feed")
        return FeedPage(items=[], next_after=query.after)

    async def submit(actor: Actor, command: SubmitReferral) -> Any:
        raise InvalidInput("the stub referrals service saw the request")

    await gateway.stubs.answer(partner_ops.GET_FEED, feed)
    await gateway.stubs.answer(referral_ops.SUBMIT_REFERRAL, submit)
    return registry


async def test_a_key_reads_what_its_scopes_allow_and_nothing_more(
    gateway: StubbedGateway, registry: KeyRegistry
) -> None:
    key = registry.issue("feed:read")
    async with gateway.client(**{"X-API-Key": key}) as api:
        feed = await api.get(f"/api/v1/partners/{PARTNER}/feed")
        write = await api.post("/api/v1/referrals", json=referral_body("bieb-zuid", str(PARTNER)))
        other = await api.get(f"/api/v1/partners/{uuid.uuid4()}/feed")
    assert feed.status_code == 200
    assert write.status_code == 403
    assert write.json()["type"] == "urn:partnernet:problem:forbidden"
    assert "referrals:write" in write.json()["detail"]
    assert not [c for c in gateway.stubs.calls if c[0] == "rpc.referrals.submit"], "refused before any service"
    assert other.status_code == 404


async def test_a_key_acts_as_its_partner(gateway: StubbedGateway, registry: KeyRegistry) -> None:
    key = registry.issue("referrals:write", "referrals:read")
    async with gateway.client(Authorization=f"ApiKey {key}") as api:
        response = await api.post("/api/v1/referrals", json=referral_body("bieb-zuid", str(PARTNER)))
    assert response.status_code == 422  # the (stub) service answered: the guard let it through
    _subject, actor, _ = [c for c in gateway.stubs.calls if c[0] == "rpc.referrals.submit"][-1]
    assert actor.role is Role.PARTNER and actor.partner == str(PARTNER) and actor.municipality == "zuidstad"
    assert actor.subject == f"api-key:{registry.keys[key].key_id}"


async def test_an_unknown_key_is_a_401_problem(gateway: StubbedGateway, registry: KeyRegistry) -> None:
    async with gateway.client(**{"X-API-Key": "pnk_made_up"}) as api:
        response = await api.get(f"/api/v1/partners/{PARTNER}/feed")
    assert response.status_code == 401
    assert response.json()["type"] == "urn:partnernet:problem:unauthorized"


async def test_a_revoked_key_stops_working_within_the_cache_ttl(
    gateway: StubbedGateway, registry: KeyRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1_000.0]  # the cache's clock, moved by the test instead of waiting for it
    monkeypatch.setattr(gateway.app.state.authenticator.api_keys, "clock", lambda: now[0])
    key = registry.issue("feed:read")
    async with gateway.client(**{"X-API-Key": key}) as api:
        assert (await api.get(f"/api/v1/partners/{PARTNER}/feed")).status_code == 200
        assert (await api.get(f"/api/v1/partners/{PARTNER}/feed")).status_code == 200
        assert registry.lookups == 1, "the answer is cached"
        del registry.keys[key]  # revoked in the partners service
        now[0] += CACHE_SECONDS - 0.01
        still_cached = await api.get(f"/api/v1/partners/{PARTNER}/feed")
        now[0] += 0.02
        revoked = await api.get(f"/api/v1/partners/{PARTNER}/feed")
    assert still_cached.status_code == 200, "within the TTL the cached answer holds"
    assert revoked.status_code == 401 and registry.lookups == 2


async def test_a_key_issued_by_the_partners_service_works_through_the_gateway(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    """The real partners service behind `authenticate_api_key`: issue, use within scope, refused outside."""
    async with platform.client(tenant.partner_a_token) as api:
        issued = await api.post(
            f"/api/v1/partners/{tenant.partner_a}/api-keys", json={"name": "koppeling", "scopes": ["feed:read"]}
        )
    assert issued.status_code == 201, issued.text
    key = issued.json()["key"]
    async with platform.client() as api:
        headers = {"X-API-Key": key}
        feed = await api.get(f"/api/v1/partners/{tenant.partner_a}/feed", headers=headers)
        other = await api.get(f"/api/v1/partners/{tenant.partner_b}/feed", headers=headers)
        write = await api.post(
            "/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a), headers=headers
        )
        more_keys = await api.post(
            f"/api/v1/partners/{tenant.partner_a}/api-keys",
            json={"name": "meer", "scopes": ["api-keys:write"]},
            headers={"Authorization": f"ApiKey {key}"},
        )
    assert feed.status_code == 200
    assert other.status_code == 404
    assert write.status_code == 403
    assert more_keys.status_code == 403, "a key never makes keys"
