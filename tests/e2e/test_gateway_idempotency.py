"""Idempotency-Key: a retried POST creates one thing and answers the same; the key is kept in NATS, not PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import nats
import pytest

from gateway.idempotency import BUCKET, TTL_SECONDS
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant, register_tenant


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    """One tenant for the module: every test names its own partners."""
    return await register_tenant(platform)


async def partners_named(platform: RunningPlatform, tenant: Tenant, name: str) -> int:
    async with platform.client(tenant.operator) as api:
        # The tenant's own partners only: a whole suite's partners fill more than the first page of all of them.
        query: dict[str, Any] = {"municipality": tenant.municipality, "limit": 200}
        listed = (await api.get("/api/v1/partners", params=query)).json()["items"]
    return sum(1 for p in listed if p["name"] == name)


def partner(tenant: Tenant, name: str) -> dict[str, str]:
    return {"name": name, "kind": "folk_university", "municipality": tenant.municipality}


async def test_a_retried_post_with_the_same_key_creates_one_partner(platform: RunningPlatform, tenant: Tenant) -> None:
    name = f"Volksuniversiteit {uuid.uuid4().hex[:6]}"
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    async with platform.client(tenant.operator) as api:
        first = await api.post("/api/v1/partners", json=partner(tenant, name), headers=headers)
        # The same content with other spacing and key order is the same request.
        body = f'{{"municipality": "{tenant.municipality}",   "kind": "folk_university", "name": "{name}"}}'
        retry = await api.post(
            "/api/v1/partners", content=body, headers={**headers, "content-type": "application/json"}
        )
    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert retry.headers["x-request-id"] != first.headers["x-request-id"]
    assert await partners_named(platform, tenant, name) == 1


async def test_the_same_key_with_another_body_is_a_422_problem(platform: RunningPlatform, tenant: Tenant) -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    name = f"Taalhuis {uuid.uuid4().hex[:6]}"
    async with platform.client(tenant.operator) as api:
        first = await api.post("/api/v1/partners", json=partner(tenant, name), headers=headers)
        other = await api.post("/api/v1/partners", json=partner(tenant, name + " bis"), headers=headers)
    assert first.status_code == 201
    assert other.status_code == 422
    assert other.json()["type"] == "urn:partnernet:problem:idempotency-key-reused"
    assert await partners_named(platform, tenant, name + " bis") == 0


async def test_concurrent_duplicates_create_one_partner(platform: RunningPlatform, tenant: Tenant) -> None:
    name = f"ROC {uuid.uuid4().hex[:6]}"
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    async with platform.client(tenant.operator) as api:
        answers = await asyncio.gather(
            *(api.post("/api/v1/partners", json=partner(tenant, name), headers=headers) for _ in range(4))
        )
    created = [a for a in answers if a.status_code == 201]
    assert created, [a.text for a in answers]
    # Duplicates waited for the first and got its answer (or, had it taken too long, a 409 problem).
    assert all(a.status_code in (201, 409) for a in answers)
    assert len({a.json()["id"] for a in created}) == 1
    assert await partners_named(platform, tenant, name) == 1


async def test_keys_belong_to_their_caller(platform: RunningPlatform, tenant: Tenant) -> None:
    key = str(uuid.uuid4())
    names = [f"Bibliotheekpartner {uuid.uuid4().hex[:6]}" for _ in range(2)]
    async with platform.client(tenant.operator) as api:
        first = await api.post("/api/v1/partners", json=partner(tenant, names[0]), headers={"Idempotency-Key": key})
    async with platform.client(platform.token(Role.OPERATOR)) as other:
        second = await other.post("/api/v1/partners", json=partner(tenant, names[1]), headers={"Idempotency-Key": key})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


async def test_a_failed_first_attempt_can_be_retried(platform: RunningPlatform, tenant: Tenant) -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    name = f"Buurthuis {uuid.uuid4().hex[:6]}"
    async with platform.client(tenant.operator) as api:
        refused = await api.post(
            "/api/v1/partners", json={**partner(tenant, name), "kind": "juggling"}, headers=headers
        )
        assert refused.status_code == 422
        again = await api.post("/api/v1/partners", json={**partner(tenant, name), "kind": "juggling"}, headers=headers)
    # A 4xx answer is an answer: the same request gets the same problem, and nothing was created.
    assert again.status_code == 422 and again.headers.get("idempotent-replayed") == "true"


async def test_keys_live_in_a_jetstream_bucket_for_a_day(platform: RunningPlatform) -> None:
    nc = await nats.connect(platform.settings.nats_url)
    try:
        kv = await nc.jetstream().key_value(BUCKET)
        status = await kv.status()
    finally:
        await nc.close()
    assert status.ttl == TTL_SECONDS
