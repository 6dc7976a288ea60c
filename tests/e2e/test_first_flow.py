"""End to end over HTTP: a referral submitted at the gateway reaches the referring partner's feed, as one trace."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.referrals import store as referral_store
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.waiting import eventually


async def feed_of(platform: RunningPlatform, token: str, partner_id: str) -> list[dict]:
    async with platform.client(token) as api:
        response = await api.get(f"/api/v1/partners/{partner_id}/feed")
        response.raise_for_status()
        return response.json()["items"]


async def test_submitted_referral_reaches_the_partners_feed(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    assert response.status_code == 201, response.text
    referral = response.json()
    assert referral["status"] == "submitted"
    assert referral["participant_pseudonym"].startswith("P-")

    async def referral_in_feed() -> list[dict]:
        items = await feed_of(platform, tenant.partner_a_token, tenant.partner_a)
        return [i for i in items if i["data"]["referral_id"] == referral["id"]]

    (entry,) = await eventually(referral_in_feed, what="the referral in the partner's feed")
    assert entry["type"] == "nl.partnernet.referral.submitted.v1"
    assert entry["library"] == tenant.library_a
    # The participant as this partner's own pseudonym (stable in its feed, different in another partner's).
    assert entry["data"]["participant_pseudonym"].startswith("F-")
    assert entry["data"]["participant_pseudonym"] != referral["participant_pseudonym"]
    # The feed carries the pseudonym only, never the person.
    assert "Fatima" not in str(entry)
    assert "0612345678" not in str(entry)


async def test_personal_data_is_stored_encrypted(platform: RunningPlatform, tenant: Tenant) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        response = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    referral_id = response.json()["id"]
    async with platform.services["referrals"].sessions() as session:
        sealed = (
            await session.execute(
                sa.select(referral_store.referrals.c.participant_sealed).where(
                    referral_store.referrals.c.id == referral_id
                )
            )
        ).scalar_one()
    assert b"Fatima" not in sealed and b"0612345678" not in sealed
    async with platform.client(tenant.staff_a) as api:
        assert (await api.post(f"/api/v1/referrals/{referral_id}/accept")).status_code == 200
        seen = (await api.get(f"/api/v1/referrals/{referral_id}")).json()  # after accepting: who it is
    assert seen["participant"]["name"] == "Fatima El Amrani"


async def test_gateway_referrals_and_partners_share_one_trace(
    platform: RunningPlatform, tenant: Tenant, spans: InMemorySpanExporter, webhook_endpoint: str
) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        hook = await api.post(
            f"/api/v1/partners/{tenant.partner_a}/webhooks",
            json={"url": webhook_endpoint, "event_types": ["referral.submitted"]},
        )
        assert hook.status_code == 201, hook.text
        response = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
    assert response.status_code == 201
    trace_id = int(response.headers["x-request-id"], 16)
    referral_id = response.json()["id"]
    await eventually(lambda: _feed_has(platform, tenant, referral_id), what="the referral in the partner's feed")

    def services_in_trace() -> set[str]:
        return {
            str(span.resource.attributes["service.name"])
            for span in spans.get_finished_spans()
            if span.context.trace_id == trace_id
        }

    async def all_three() -> set[str] | None:
        found = services_in_trace()
        wanted = {"partnernet-gateway", "partnernet-referrals", "partnernet-partners"}
        return found if wanted <= found else None

    await eventually(all_three, what="spans of gateway, referrals and partners in one trace")
    in_trace = [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]
    names = {s.name for s in in_trace}
    # The SQL of the use case, the outbox relay's publish and the consumer are all in it.
    assert any(s.attributes and s.attributes.get("db.system") == "postgresql" for s in in_trace), names
    assert any(n.startswith("outbox relay nl.partnernet.referral.submitted.v1") for n in names), names
    assert any("referral.submitted" in n and "process" in n for n in names), names

    # The feed entry's publish on the partner's NATS subject, by the partners service: the same trace.
    def feed_publish_spans() -> list[Any]:
        return [
            s
            for s in spans.get_finished_spans()
            if s.context.trace_id == trace_id and s.name == "feed publish nl.partnernet.referral.submitted.v1"
        ]

    async def published() -> list[Any]:
        return feed_publish_spans()

    (feed_publish,) = await eventually(published, what="the feed entry's NATS publish in the referral's trace")
    assert feed_publish.resource.attributes["service.name"] == "partnernet-partners"
    assert dict(feed_publish.attributes or {})["messaging.destination.name"] == f"feeds.{tenant.partner_a}"

    # The webhook delivery the event caused, later and from the partners service's worker: the same trace.
    def delivery_spans() -> list[Any]:
        return [
            s
            for s in spans.get_finished_spans()
            if s.context.trace_id == trace_id and s.name == "webhook delivery nl.partnernet.referral.submitted.v1"
        ]

    async def delivered() -> list[Any]:
        return delivery_spans()

    (delivery,) = await eventually(delivered, what="the webhook delivery's span in the referral's trace")
    attributes = dict(delivery.attributes or {})
    assert delivery.resource.attributes["service.name"] == "partnernet-partners"
    assert attributes["http.response.status_code"] == 200
    assert attributes["partnernet.partner"] == tenant.partner_a
    assert attributes["partnernet.referral"] == referral_id
    assert attributes["partnernet.library"] == tenant.library_a
    assert attributes["partnernet.event_type"] == "nl.partnernet.referral.submitted.v1"
    assert str(attributes["partnernet.pseudonym"]).startswith("F-"), "the partner's own pseudonym, as in its feed"


async def _feed_has(platform: RunningPlatform, tenant: Tenant, referral_id: str) -> bool:
    items = await feed_of(platform, tenant.partner_a_token, tenant.partner_a)
    return any(i["data"]["referral_id"] == referral_id for i in items)
