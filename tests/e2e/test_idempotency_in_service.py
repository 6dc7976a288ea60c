"""`Idempotency-Key` kept by the service, in the change's transaction (shared/idempotency.py), on real NATS and
PostgreSQL: a POST the service committed but whose answer was lost is applied once however often it is retried,
and the retry gets the first answer; the same key with another body is refused; identical calls at once make one
change; one actor's key is nothing to another.

The gateway's bucket forgets a key after a 5xx, so these tests lose the answer on its way back from the service
(the referrals replica drops the reply it sends for the key under test): the gateway answers 504, as it would
after a broker that failed over or a reply later than its deadline.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec
import nats
import pytest
import sqlalchemy as sa
from nats.aio.msg import Msg

from services.referrals import store
from shared.contracts.referrals.api.operations import SUBMIT_REFERRAL
from shared.contracts.referrals.api.referrals import ReferralView, SubmitReferral
from shared.errors import Forbidden, IdempotencyKeyReused
from shared.rpc import RpcClient, RpcRequest, idempotent_request
from shared.rpc.server import Responder
from shared.tenancy import Actor, Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant, register_tenant
from tests.referral_bodies import referral_body
from tests.waiting import PATIENCE_SECONDS


@pytest.fixture(scope="module")
async def tenant(platform: RunningPlatform) -> Tenant:
    return await register_tenant(platform)


class LostReplies:
    """The referrals replica's `submit` responder, made to drop the first reply it sends for chosen keys."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.keys: set[str] = set()
        self.dropped: dict[str, bytes] = {}

    async def handle(self, msg: Msg) -> None:
        request = msgspec.json.decode(msg.data, type=RpcRequest)
        key = request.idempotency.key if request.idempotency is not None else None
        if key in self.keys and key not in self.dropped:
            self.dropped[key] = await self.responder.respond(msg.data)  # done and committed; never sent back
            return
        await Responder._handle(self.responder, msg)


@pytest.fixture
def lost(platform: RunningPlatform) -> Iterator[LostReplies]:
    responder = platform.services["referrals"].rpc.responders[SUBMIT_REFERRAL.name]
    lost = LostReplies(responder)
    responder._handle = lost.handle  # type: ignore[method-assign]
    try:
        yield lost
    finally:
        del responder._handle  # the class's again


@pytest.fixture
async def rpc(platform: RunningPlatform) -> AsyncIterator[RpcClient]:
    connection = await nats.connect(platform.settings.nats_url)
    try:
        yield RpcClient(connection, timeout=PATIENCE_SECONDS)
    finally:
        await connection.close()


async def referrals_with_reason(platform: RunningPlatform, reason: str) -> list[str]:
    async with platform.services["referrals"].sessions() as session:
        rows = await session.execute(sa.select(store.referrals.c.id).where(store.referrals.c.reason == reason))
    return [str(r) for r in rows.scalars()]


def submission(tenant: Tenant, reason: str, partner: str | None = None) -> dict[str, Any]:
    return referral_body(tenant.library_a, partner or tenant.partner_a, reason=reason)


def partner_actor(tenant: Tenant, partner: str, subject: str) -> Actor:
    return Actor(subject=subject, role=Role.PARTNER, municipality=tenant.municipality, partner=partner)


async def test_a_committed_post_whose_answer_was_lost_is_applied_once_and_the_retry_gets_the_first_answer(
    platform: RunningPlatform, tenant: Tenant, lost: LostReplies
) -> None:
    key = str(uuid.uuid4())
    lost.keys.add(key)
    reason = f"verloren antwoord {uuid.uuid4().hex[:8]}"
    body = submission(tenant, reason)
    async with platform.client(tenant.partner_a_token) as api:
        first = await api.post("/api/v1/referrals", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == 504, first.text  # the gateway never heard back; the service had committed
        assert len(await referrals_with_reason(platform, reason)) == 1
        other = await api.post(
            "/api/v1/referrals", json=submission(tenant, reason + " bis"), headers={"Idempotency-Key": key}
        )
        retries = [await api.post("/api/v1/referrals", json=body, headers={"Idempotency-Key": key}) for _ in range(2)]
    # Another body under the key the service recorded: refused by the service (the gateway had forgotten it).
    assert other.status_code == 422, other.text
    assert other.json()["type"] == "urn:partnernet:problem:idempotency-key-reused"
    assert await referrals_with_reason(platform, reason + " bis") == []
    # The retry is the first call's answer, which the client never received: the same referral, applied once.
    original = msgspec.json.decode(lost.dropped[key])["result"]
    assert [r.status_code for r in retries] == [201, 201], [r.text for r in retries]
    assert retries[0].json()["id"] == retries[1].json()["id"] == original["id"]
    assert retries[0].json()["participant"] == original["participant"]
    assert await referrals_with_reason(platform, reason) == [original["id"]]


async def test_concurrent_identical_calls_make_one_change(
    platform: RunningPlatform, tenant: Tenant, rpc: RpcClient
) -> None:
    """Straight to the service, past the gateway's bucket (which would hold all but one back)."""
    key = str(uuid.uuid4())
    reason = f"tegelijk {uuid.uuid4().hex[:8]}"
    command = msgspec.convert(submission(tenant, reason), SubmitReferral)
    actor = partner_actor(tenant, tenant.partner_a, "partner-person-1")

    async def call() -> ReferralView:
        with idempotent_request(key, "the same request"):
            return await rpc.call(SUBMIT_REFERRAL, actor, command)

    answers = await asyncio.gather(*(call() for _ in range(8)))
    assert len({a.id for a in answers}) == 1
    assert await referrals_with_reason(platform, reason) == [str(answers[0].id)]


async def test_a_key_is_nothing_to_another_actor(platform: RunningPlatform, tenant: Tenant, rpc: RpcClient) -> None:
    """An attacker who learnt another's key (and body) neither gets the first reply nor blocks the owner."""
    key = str(uuid.uuid4())
    reason = f"sleutel van een ander {uuid.uuid4().hex[:8]}"
    command = msgspec.convert(submission(tenant, reason), SubmitReferral)
    owner = partner_actor(tenant, tenant.partner_a, "partner-person-a")
    with idempotent_request(key, "request"):
        first = await rpc.call(SUBMIT_REFERRAL, owner, command)
    # Another partner, the same key and the very same body: its own call, which its scope refuses.
    intruder = partner_actor(tenant, tenant.partner_b, "partner-person-b")
    with idempotent_request(key, "request"), pytest.raises(Forbidden):
        await rpc.call(SUBMIT_REFERRAL, intruder, command)
    # Its own referral under the same key: a new one, not the owner's.
    own = msgspec.convert(submission(tenant, reason + " b", tenant.partner_b), SubmitReferral)
    with idempotent_request(key, "request"):
        second = await rpc.call(SUBMIT_REFERRAL, intruder, own)
    assert second.id != first.id
    # Another person of the owner's own partner is another actor too.
    colleague = partner_actor(tenant, tenant.partner_a, "partner-person-a2")
    with idempotent_request(key, "request"):
        third = await rpc.call(SUBMIT_REFERRAL, colleague, command)
    assert third.id not in (first.id, second.id)
    # The owner still gets its own first answer, and another request under its key is refused.
    with idempotent_request(key, "request"):
        again = await rpc.call(SUBMIT_REFERRAL, owner, command)
    assert again.id == first.id
    with idempotent_request(key, "another request"), pytest.raises(IdempotencyKeyReused):
        await rpc.call(SUBMIT_REFERRAL, owner, command)
    assert sorted(await referrals_with_reason(platform, reason)) == sorted([str(first.id), str(third.id)])


async def test_the_table_holds_neither_the_key_nor_the_reply_in_clear(
    platform: RunningPlatform, tenant: Tenant, rpc: RpcClient
) -> None:
    key = f"geheim-{uuid.uuid4()}"
    reason = f"verzegeld {uuid.uuid4().hex[:8]}"
    command = msgspec.convert(submission(tenant, reason), SubmitReferral)
    with idempotent_request(key, "request"):
        await rpc.call(SUBMIT_REFERRAL, partner_actor(tenant, tenant.partner_a, "p"), command)
    async with platform.services["referrals"].engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT * FROM idempotency_keys WHERE actor = 'p'"))).mappings().all()
    assert len(rows) == 1
    stored = repr(dict(rows[0]))
    assert key not in stored and "Fatima" not in stored and reason not in stored
    assert rows[0]["operation"] == SUBMIT_REFERRAL.subject
