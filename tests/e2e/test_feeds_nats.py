"""A partner's feed over NATS, with a plain nats-py client and the credentials the gateway issued.

It reads its own feed, catches up after being offline (a durable consumer), and is denied everything
else: another partner's feed and consumer, the integration events, the services' requests.
"""

from __future__ import annotations

import json
from typing import Any

import nats
import nats.errors
import pytest
from nats.aio.client import Client

from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.waiting import eventually


async def credentials(platform: RunningPlatform, token: str, partner_id: str) -> dict[str, Any]:
    async with platform.client(token) as api:
        response = await api.post(f"/api/v1/partners/{partner_id}/feed/nats-credentials")
    assert response.status_code == 201, response.text
    issued = response.json()
    if not issued["access"]["enforced"]:
        pytest.skip("this NATS server does not check credentials (NATS_URL without the platform's password)")
    return issued


async def connect(issued: dict[str, Any], errors: list[Exception]) -> Client:
    async def remember(error: Exception) -> None:
        errors.append(error)

    access = issued["access"]
    return await nats.connect(
        access["servers"],
        token=issued["token"],
        inbox_prefix=access["inbox_prefix"],
        error_cb=remember,
        allow_reconnect=False,
        connect_timeout=5,
    )


async def submit(platform: RunningPlatform, tenant: Tenant) -> str:
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def fetch_referrals(subscription: Any, wanted: set[str]) -> list[dict[str, Any]]:
    """Fetch and ack until every wanted referral arrived; every entry fetched, in order."""
    seen: list[dict[str, Any]] = []

    async def all_there() -> bool:
        try:
            messages = await subscription.fetch(10, timeout=0.5)
        except nats.errors.TimeoutError:
            messages = []
        for message in messages:
            seen.append(json.loads(message.data))
            await message.ack()
        return wanted <= {entry["data"]["referral_id"] for entry in seen}

    await eventually(all_there, what=f"referrals {wanted} on the partner's NATS feed")
    return seen


async def test_a_partner_reads_its_own_feed_over_nats_and_catches_up_after_being_offline(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    issued = await credentials(platform, tenant.partner_a_token, tenant.partner_a)
    access = issued["access"]
    assert access["subject"] == f"feeds.{tenant.partner_a}"
    async with platform.client(tenant.partner_a_token) as api:
        described = await api.get(f"/api/v1/partners/{tenant.partner_a}/feed/nats")
    assert described.json() == access and issued["token"] not in described.text
    first = await submit(platform, tenant)
    errors: list[Exception] = []
    client = await connect(issued, errors)
    try:
        subscription = await client.jetstream().pull_subscribe_bind(durable=access["durable"], stream=access["stream"])
        (entry,) = [e for e in await fetch_referrals(subscription, {first}) if e["data"]["referral_id"] == first]
    finally:
        await client.close()
    assert entry["type"] == "nl.partnernet.referral.submitted.v1"
    assert entry["data"]["participant_pseudonym"].startswith("F-")
    assert "Fatima" not in json.dumps(entry)
    async with platform.client(tenant.partner_a_token) as api:
        over_http = (await api.get(f"/api/v1/partners/{tenant.partner_a}/feed")).json()["items"]
    assert entry in over_http  # the same entry as the HTTP feed, position and pseudonym included

    # Offline: two more referrals happen meanwhile; back online, the durable consumer continues after the first.
    later = {await submit(platform, tenant), await submit(platform, tenant)}
    client = await connect(issued, errors)
    try:
        subscription = await client.jetstream().pull_subscribe_bind(durable=access["durable"], stream=access["stream"])
        caught_up = await fetch_referrals(subscription, later)
    finally:
        await client.close()
    referrals = [e["data"]["referral_id"] for e in caught_up]
    assert first not in referrals  # acknowledged before: not again
    assert sorted(referrals) == sorted(later)
    assert [e["position"] for e in caught_up] == sorted(e["position"] for e in caught_up)
    assert not errors


async def test_the_credentials_open_nothing_but_the_partners_own_feed(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    issued = await credentials(platform, tenant.partner_a_token, tenant.partner_a)
    other = await credentials(platform, tenant.partner_b_token, tenant.partner_b)
    errors: list[Exception] = []
    client = await connect(issued, errors)
    try:
        await client.subscribe(other["access"]["subject"])
        await client.subscribe("events.>")
        await client.subscribe("rpc.>")
        await client.subscribe("_INBOX.>")
        await client.publish("rpc.partners.get_feed", b"{}")
        js = client.jetstream()
        stolen = await js.pull_subscribe_bind(durable=other["access"]["durable"], stream=other["access"]["stream"])
        with pytest.raises(nats.errors.TimeoutError):
            await stolen.fetch(1, timeout=1)
        await client.flush()

        def violations() -> set[str]:
            return {str(e).lower() for e in errors if "permissions violation" in str(e).lower()}

        async def all_denied() -> set[str] | None:
            found = violations()
            return found if len(found) >= 6 else None

        denied = " ".join(await eventually(all_denied, what="six permission violations"))
    finally:
        await client.close()
    for subject in (
        f'subscription to "{other["access"]["subject"]}"',
        'subscription to "events.>"',
        'subscription to "rpc.>"',
        'subscription to "_inbox.>"',
        'publish to "rpc.partners.get_feed"',
        f'publish to "$js.api.consumer.msg.next.partner_feeds.{other["access"]["durable"]}"',
    ):
        assert subject.lower() in denied, (subject, denied)


async def test_a_wrong_or_revoked_key_does_not_connect(platform: RunningPlatform, tenant: Tenant) -> None:
    issued = await credentials(platform, tenant.partner_b_token, tenant.partner_b)
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await connect({**issued, "token": "pnk_not-a-key"}, [])
    async with platform.client(tenant.partner_b_token) as api:
        revoked = await api.delete(f"/api/v1/partners/{tenant.partner_b}/api-keys/{issued['key_id']}")
        assert revoked.status_code == 200, revoked.text
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await connect(issued, [])
