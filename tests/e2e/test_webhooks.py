"""Partners' webhooks against a real HTTP receiver on localhost: retries until it recovers, exactly once by id,
signed so that a tampered delivery is detected with the documented check, and secrets rotated without loss."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from services.partners import store
from services.partners.commands.webhooks import IN_FLIGHT, IN_FLIGHT_PER_WEBHOOK
from services.partners.signatures import LEGACY_SIGNATURE_HEADER, verify_signature
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.serving import on_this_machine, serving
from tests.waiting import eventually


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int
    arrived: float  # time.monotonic() when the request came

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The check a partner makes with the Standard Webhooks library of its language."""
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


@dataclass
class Receiver:
    """A partner's endpoint: fails the first `failing[path]` requests; with a `secret`, refuses bad signatures;
    with a `holding[path]` event, answers (at most `HOLD_SECONDS` later) only once the test sets it."""

    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    failing: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    holding: dict[str, asyncio.Event] = field(default_factory=dict)
    answered_at: dict[str, list[float]] = field(default_factory=dict)  # when each answer of a path went

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        arrived = time.monotonic()
        path = scope["path"]
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status = 200
        if self.failing.get(path, 0) > 0:
            self.failing[path] -= 1
            status = 503
        elif (secret := self.secrets.get(path)) and not verified(secret, headers, body):
            status = 401
        self.received.append(Received(path, headers, body, status, arrived))
        if (hold := self.holding.get(path)) is not None:
            with contextlib.suppress(TimeoutError):  # well within the tests' webhook timeout (10 s)
                await asyncio.wait_for(hold.wait(), HOLD_SECONDS)
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok" if status == 200 else b"not now"})
        self.answered_at.setdefault(path, []).append(time.monotonic())

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def accepted_ids(self, path: str) -> Counter[str]:
        return Counter(r.event["id"] for r in self.at(path) if r.answered == 200)


HOLD_SECONDS = 8.0


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    app = Receiver()
    config = on_this_machine(app)
    async with serving(config):
        app.base_url = f"http://127.0.0.1:{config.port}"
        yield app


async def register(platform: RunningPlatform, tenant: Tenant, receiver: Receiver, *types: str) -> tuple[str, str, str]:
    """A webhook of partner A: its path on the receiver, its id and its secret."""
    path = f"/hooks/{uuid.uuid4().hex}"
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.post(
            f"/api/v1/partners/{tenant.partner_a}/webhooks",
            json={"url": receiver.base_url + path, "event_types": list(types)},
        )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secret"].startswith("whsec_")
    return path, created["webhook"]["id"], created["secret"]


async def submit(platform: RunningPlatform, tenant: Tenant) -> str:
    return (await submit_traced(platform, tenant))[0]


async def submit_traced(platform: RunningPlatform, tenant: Tenant) -> tuple[str, str]:
    """The referral's id, and the trace id of its POST (the gateway returns it as X-Request-Id)."""
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    assert response.status_code == 201, response.text
    return str(response.json()["id"]), response.headers["x-request-id"]


async def deliveries(platform: RunningPlatform, tenant: Tenant, webhook_id: str, **params: str) -> list[dict[str, Any]]:
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.get(f"/api/v1/partners/{tenant.partner_a}/webhooks/{webhook_id}/deliveries", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_delivery_arrives_once_the_endpoint_recovers_exactly_once_and_signed(
    platform: RunningPlatform, tenant: Tenant, receiver: Receiver
) -> None:
    path, webhook_id, secret = await register(platform, tenant, receiver, "referral.*")
    receiver.failing[path] = 2
    referral_id, trace_id = await submit_traced(platform, tenant)

    async def delivered() -> list[dict[str, Any]]:
        return await deliveries(platform, tenant, webhook_id, status="delivered")

    (delivery,) = await eventually(delivered, what="the delivery to succeed after two failures")
    requests = receiver.at(path)
    assert [r.answered for r in requests] == [503, 503, 200]
    assert {r.event["id"] for r in requests} == {delivery["event_id"]}  # the same event on every try
    assert receiver.accepted_ids(path) == Counter({delivery["event_id"]: 1})

    accepted = requests[-1]
    event = accepted.event
    assert accepted.headers["content-type"].startswith("application/cloudevents+json")
    assert event["specversion"] == "1.0" and event["type"] == "nl.partnernet.referral.submitted.v1"
    assert event["data"]["referral_id"] == referral_id
    assert event["data"]["participant_pseudonym"].startswith("F-")
    assert event["partnerid"] == tenant.partner_a and isinstance(event["feedposition"], int)
    assert "Fatima" not in accepted.body.decode()
    # Every try continues the trace of the POST that caused it, and the partner can continue it too.
    assert all(r.headers["traceparent"].split("-")[1] == trace_id for r in requests)

    # Standard Webhooks: the event's id, a timestamp and the signature, checked with the standard's own library.
    assert accepted.headers["webhook-id"] == event["id"]
    assert verified(secret, accepted.headers, accepted.body)
    tampered = accepted.body.replace(b"F-", b"X-")
    assert not verified(secret, accepted.headers, tampered)
    assert not verified(secret, {**accepted.headers, "webhook-id": "another"}, accepted.body)
    assert not verified("whsec_" + "Z2Vzb2Nodw==", accepted.headers, accepted.body)
    # The old header goes along during the transition, and its documented check holds too.
    header = accepted.headers[LEGACY_SIGNATURE_HEADER.lower()]
    assert verify_signature(secret, header, accepted.body)
    # The documented check catches tampering: with the body, the signature, the secret, or an old timestamp.
    assert not verify_signature(secret, header, accepted.body.replace(b"F-", b"X-"))
    assert not verify_signature(secret, header[:-4] + "0000", accepted.body)
    assert not verify_signature("whsec_guessed", header, accepted.body)
    assert not verify_signature(secret, header, accepted.body, tolerance=300, now=time.time() + 3600)

    async with platform.client(tenant.partner_a_token) as api:
        detail = (
            await api.get(f"/api/v1/partners/{tenant.partner_a}/webhooks/{webhook_id}/deliveries/{delivery['id']}")
        ).json()
    assert detail["attempts"] == 3 and detail["status"] == "delivered"
    log = detail["attempt_log"]
    assert [a["status_code"] for a in log] == [503, 503, 200]
    assert [a["attempt"] for a in log] == [1, 2, 3]
    assert "503" in log[0]["error"] and log[2]["error"] is None
    assert all(a["duration_ms"] >= 0 for a in log)


async def test_a_delivery_that_keeps_failing_is_marked_failed_and_can_be_replayed(
    platform: RunningPlatform, tenant: Tenant, receiver: Receiver
) -> None:
    path, webhook_id, _ = await register(platform, tenant, receiver, "referral.submitted")
    receiver.failing[path] = 1000
    await submit(platform, tenant)

    async def failed() -> list[dict[str, Any]]:
        return await deliveries(platform, tenant, webhook_id, status="failed")

    (delivery,) = await eventually(failed, what="the delivery to be given up")
    assert delivery["attempts"] == 4  # webhook_max_attempts in the tests' settings
    assert len(receiver.at(path)) == 4
    tries = [r.answered for r in receiver.at(path)]
    assert tries == [503] * 4

    receiver.failing[path] = 0  # the endpoint is back
    async with platform.client(tenant.partner_a_token) as api:
        replay = await api.post(
            f"/api/v1/partners/{tenant.partner_a}/webhooks/{webhook_id}/deliveries/{delivery['id']}/replay"
        )
        assert replay.status_code == 200, replay.text
        assert replay.json()["status"] == "pending"
    await eventually(lambda: deliveries(platform, tenant, webhook_id, status="delivered"), what="the replay")
    assert receiver.accepted_ids(path) == Counter({delivery["event_id"]: 1})


async def test_secrets_rotate_without_losing_a_delivery(
    platform: RunningPlatform, tenant: Tenant, receiver: Receiver
) -> None:
    path, webhook_id, first_secret = await register(platform, tenant, receiver, "referral.submitted")
    receiver.secrets[path] = first_secret  # the endpoint refuses (401) what its secret does not verify
    rotate = f"/api/v1/partners/{tenant.partner_a}/webhooks/{webhook_id}/rotate-secret"
    events: list[Any] = []

    async def delivered_count() -> bool:
        return len(await deliveries(platform, tenant, webhook_id, status="delivered")) == len(events)

    events.append(await submit(platform, tenant))
    await eventually(delivered_count, what="the delivery with the first secret")

    async with platform.client(tenant.partner_a_token) as api:
        rotated = (await api.post(rotate, json={"overlap_seconds": 3600})).json()
    second_secret = rotated["secret"]
    assert second_secret != first_secret and rotated["webhook"]["previous_secret_valid_until"]
    events.append(await submit(platform, tenant))  # the endpoint still checks with the first secret
    await eventually(delivered_count, what="a delivery during the overlap, checked with the old secret")
    receiver.secrets[path] = second_secret  # the partner switches
    events.append(await submit(platform, tenant))
    await eventually(delivered_count, what="a delivery checked with the new secret")

    async with platform.client(tenant.partner_a_token) as api:
        third_secret = (await api.post(rotate, json={"overlap_seconds": 0})).json()["secret"]
    events.append(await submit(platform, tenant))  # no overlap: the endpoint (on the second) refuses …

    async def refused_once() -> bool:
        return any(r.answered == 401 for r in receiver.at(path))

    await eventually(refused_once, what="a refusal with the retired secret")
    receiver.secrets[path] = third_secret  # … until it switches, and the retry gets through
    await eventually(delivered_count, what="the retried delivery after the switch")

    accepted = receiver.accepted_ids(path)
    assert len(accepted) == len(events) == 4 and set(accepted.values()) == {1}
    assert len(await deliveries(platform, tenant, webhook_id)) == 4


async def test_webhooks_are_the_partners_own_and_go_to_https(
    platform: RunningPlatform, tenant: Tenant, receiver: Receiver
) -> None:
    _, webhook_id, _ = await register(platform, tenant, receiver, "*")
    base = f"/api/v1/partners/{tenant.partner_a}/webhooks"
    async with platform.client(tenant.partner_a_token) as api:
        plain = await api.post(base, json={"url": "http://partner.example/hook", "event_types": ["*"]})
        assert plain.status_code == 422 and "https" in plain.json()["detail"]
        bad_type = await api.post(base, json={"url": "https://partner.example/hook", "event_types": ["Referral"]})
        assert bad_type.status_code == 422
        secure = await api.post(base, json={"url": "https://partner.example/hook", "event_types": ["referral.*"]})
        assert secure.status_code == 201, secure.text
        assert "secret" not in (await api.get(f"{base}/{webhook_id}")).json()
        paused = await api.patch(f"{base}/{webhook_id}", json={"status": "paused"}, headers={"If-Match": '"1"'})
        assert paused.status_code == 200 and paused.json()["status"] == "paused"
    async with platform.client(tenant.partner_b_token) as other_partner:
        assert (await other_partner.get(f"{base}/{webhook_id}")).status_code == 404
        assert (await other_partner.get(f"{base}/{webhook_id}/deliveries")).status_code == 404
    async with platform.client(tenant.staff_a) as staff:
        assert (await staff.get(base)).status_code == 403
    operator = platform.token(Role.OPERATOR)
    async with platform.client(operator) as api:
        assert (await api.get(base)).status_code == 200
    async with platform.client(tenant.partner_a_token) as api:
        assert (await api.delete(f"{base}/{webhook_id}")).status_code == 204
        assert (await api.get(f"{base}/{webhook_id}")).status_code == 404


async def test_a_delivery_whose_worker_died_is_tried_again_once_its_lease_runs_out(
    platform: RunningPlatform, tenant: Tenant, receiver: Receiver
) -> None:
    """Deliveries live in the database: one claimed by a worker that died mid-try is not lost."""
    path, webhook_id, _ = await register(platform, tenant, receiver, "vacancy.*")  # nothing here matches it
    referral_id = await submit(platform, tenant)

    async def entry() -> list[dict[str, Any]]:
        async with platform.client(tenant.partner_a_token) as api:
            items = (await api.get(f"/api/v1/partners/{tenant.partner_a}/feed", params={"limit": 200})).json()["items"]
        return [e for e in items if e["data"]["referral_id"] == referral_id]

    (feed_entry,) = await eventually(entry, what="the referral in the feed")
    work = platform.services["partners"].unit_of_work
    now = work.clock.now()
    async with work.transaction() as tx:
        await tx.session.execute(
            store.deliveries.insert().values(
                id=uuid.uuid4(),
                webhook_id=uuid.UUID(webhook_id),
                partner_id=uuid.UUID(tenant.partner_a),
                feed_position=feed_entry["position"],
                event_id=uuid.UUID(feed_entry["event_id"]),
                event_type=feed_entry["type"],
                status="pending",
                attempts=1,
                next_attempt_at=now - timedelta(minutes=1),
                lease_until=now - timedelta(seconds=1),  # the worker that claimed it is gone
                created_at=now - timedelta(minutes=1),
            )
        )
    await eventually(lambda: deliveries(platform, tenant, webhook_id, status="delivered"), what="the orphan delivered")
    assert receiver.accepted_ids(path) == Counter({feed_entry["event_id"]: 1})


async def test_a_slow_endpoint_holds_up_no_other_delivery(
    platform: RunningPlatform, tenant: Tenant, receiver: Receiver
) -> None:
    """Each delivery is settled when its endpoint answers: while one endpoint has not answered yet, another's
    deliveries are marked delivered and the next ones sent. The slow one keeps its claim: sent once, settled later."""
    slow, slow_id, _ = await register(platform, tenant, receiver, "referral.submitted")
    fast, fast_id, _ = await register(platform, tenant, receiver, "referral.submitted")
    receiver.holding[slow] = release = asyncio.Event()

    async def slow_called() -> bool:
        return bool(receiver.at(slow))

    await submit(platform, tenant)
    await eventually(slow_called, what="the slow endpoint to get the first delivery")
    await eventually(
        lambda: deliveries(platform, tenant, fast_id, status="delivered"), what="the fast one's first delivery settled"
    )
    await submit(platform, tenant)  # written while the slow endpoint still holds the first delivery

    async def fast_second() -> bool:
        return len(receiver.at(fast)) == 2

    await eventually(fast_second, what="the fast endpoint's second delivery")
    assert not release.is_set() and slow not in receiver.answered_at  # the slow one is still in flight ...
    held = Counter(r.event["id"] for r in receiver.at(slow))
    assert set(held.values()) == {1}  # ... claimed: no other sweep sent it again meanwhile
    assert [d["attempts"] for d in await deliveries(platform, tenant, slow_id, status="pending")] == [0] * len(held)

    async def slow_answered_both() -> bool:
        return len(receiver.answered_at.get(slow, [])) == 2

    release.set()
    await eventually(slow_answered_both, what="the slow endpoint to answer both deliveries")

    async def slow_delivered() -> bool:
        return len(await deliveries(platform, tenant, slow_id, status="delivered")) == 2

    await eventually(slow_delivered, what="the slow endpoint's deliveries settled")
    assert set(receiver.accepted_ids(slow).values()) == {1} and len(receiver.accepted_ids(slow)) == 2
    assert set(receiver.accepted_ids(fast).values()) == {1} and len(receiver.accepted_ids(fast)) == 2
    assert receiver.accepted_ids(slow).keys() == receiver.accepted_ids(fast).keys()


async def test_a_slow_endpoint_with_a_backlog_takes_no_more_than_its_share_of_the_relay(
    platform: RunningPlatform, tenant: Tenant, receiver: Receiver
) -> None:
    """One webhook's backlog larger than all the relay's places, at an endpoint that answers none of them yet: it
    gets only its few places (`IN_FLIGHT_PER_WEBHOOK`), and another webhook's delivery is claimed and sent beside
    it. The backlog then goes out, each delivery once."""
    slow, slow_id, _ = await register(platform, tenant, receiver, "referral.submitted")
    receiver.holding[slow] = release = asyncio.Event()
    backlog = IN_FLIGHT + 8
    written = asyncio.Semaphore(8)

    async def submit_one() -> str:
        async with written:
            return await submit(platform, tenant)

    await asyncio.gather(*(submit_one() for _ in range(backlog)))

    async def slow_backlog() -> bool:
        return len(await deliveries(platform, tenant, slow_id, status="pending", limit="200")) == backlog

    await eventually(slow_backlog, what="every delivery of the slow endpoint written")
    fast, fast_id, _ = await register(platform, tenant, receiver, "referral.submitted")
    await submit(platform, tenant)  # written while the slow endpoint holds every request it got

    async def fast_arrived() -> bool:
        return len(receiver.at(fast)) == 1

    await eventually(fast_arrived, what="the fast endpoint's delivery beside the slow one's backlog")
    await eventually(lambda: deliveries(platform, tenant, fast_id, status="delivered"), what="the fast one settled")
    assert not release.is_set() and slow not in receiver.answered_at  # the slow one answered nothing yet ...
    assert [d["attempts"] for d in await deliveries(platform, tenant, slow_id, limit="200")] == [0] * (backlog + 1)
    assert 0 < len(receiver.at(slow)) <= IN_FLIGHT_PER_WEBHOOK  # ... and holds no more than its share

    async def all_delivered() -> bool:
        delivered = await deliveries(platform, tenant, slow_id, status="delivered", limit="200")
        return len(delivered) == backlog + 1

    release.set()
    await eventually(all_delivered, what="the slow endpoint's backlog delivered", timeout=30)
    assert set(receiver.accepted_ids(slow).values()) == {1} and len(receiver.accepted_ids(slow)) == backlog + 1
    assert receiver.accepted_ids(fast).keys() <= receiver.accepted_ids(slow).keys()
