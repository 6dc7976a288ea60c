"""What reaches a partner's feed: every referral event that concerns it (types added later too), its vacancies.

Events the other services would publish are published here on their streams, as they would be, to show
that the feed is made from the envelope and not from a list of known types.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import msgspec
import nats
import pytest
import sqlalchemy as sa
from nats.js import JetStreamContext

from services.partners import store
from shared.contracts import Envelope, nats_subject
from shared.messaging import event_stream_name
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.waiting import eventually


@pytest.fixture
async def js(platform: RunningPlatform) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(platform.settings.nats_url)
    try:
        yield client.jetstream()
    finally:
        await client.close()


async def publish(js: JetStreamContext, service: str, event_type: str, tenant: Tenant, data: dict[str, Any]) -> str:
    envelope = Envelope(
        id=uuid.uuid4(),
        source=f"/partnernet/{service}",
        type=f"nl.partnernet.{event_type}",
        time=datetime.now(UTC),
        subject=f"{tenant.municipality}/{tenant.library_a}",
        data=data,
        municipality=tenant.municipality,
        library=tenant.library_a,
    )
    await js.publish(
        nats_subject(service, envelope.type, tenant.municipality, tenant.library_a),
        msgspec.json.encode(envelope),
        stream=event_stream_name(service),
        headers={"Nats-Msg-Id": str(envelope.id)},
    )
    return str(envelope.id)


async def feed(platform: RunningPlatform, token: str, partner_id: str) -> list[dict[str, Any]]:
    async with platform.client(token) as api:
        response = await api.get(f"/api/v1/partners/{partner_id}/feed", params={"limit": 200})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def entries_of(platform: RunningPlatform, token: str, partner_id: str, event_id: str) -> list[dict[str, Any]]:
    return [e for e in await feed(platform, token, partner_id) if e["event_id"] == event_id]


async def test_every_event_of_a_referral_reaches_its_partner_under_one_pseudonym(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        referral = (await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))).json()
    async with platform.client(tenant.staff_a) as api:
        accepted = await api.post(f"/api/v1/referrals/{referral['id']}/accept")
        assert accepted.status_code == 200, accepted.text

    async def both() -> list[dict[str, Any]] | None:
        mine = [
            e
            for e in await feed(platform, tenant.partner_a_token, tenant.partner_a)
            if e["data"].get("referral_id") == referral["id"]
        ]
        return mine if len(mine) == 2 else None

    submitted, accepted_entry = await eventually(both, what="the submitted and accepted referral in the feed")
    assert submitted["type"] == "nl.partnernet.referral.submitted.v1"
    assert accepted_entry["type"] == "nl.partnernet.referral.accepted.v1"
    assert submitted["data"]["participant_pseudonym"] == accepted_entry["data"]["participant_pseudonym"]
    assert submitted["data"]["participant_pseudonym"] != referral["participant_pseudonym"]
    assert accepted_entry["position"] > submitted["position"]
    assert await feed(platform, tenant.partner_b_token, tenant.partner_b) == []


async def test_an_event_type_nobody_told_the_partners_service_about_reaches_the_feed(
    platform: RunningPlatform, tenant: Tenant, js: JetStreamContext
) -> None:
    referral_id = str(uuid.uuid4())
    event_id = await publish(
        js,
        "referrals",
        "referral.escalated.v1",
        tenant,
        {
            "referral_id": referral_id,
            "participant_pseudonym": "P-ESCALATED1",
            "referring_partner_id": tenant.partner_a,
            "receiving_partner_id": None,
            "library": tenant.library_a,
            "municipality": tenant.municipality,
            "escalated_to": "team-lead",
            "note": "Fatima belde boos op",  # never in a partner's feed, whatever an event carries
        },
    )
    (entry,) = await eventually(
        lambda: entries_of(platform, tenant.partner_a_token, tenant.partner_a, event_id), what="the new event type"
    )
    assert entry["type"] == "nl.partnernet.referral.escalated.v1"
    assert entry["data"]["escalated_to"] == "team-lead"
    assert entry["data"]["participant_pseudonym"].startswith("F-")
    assert "note" not in entry["data"] and "Fatima" not in str(entry)


async def test_referrals_to_a_partners_course_reach_it_under_its_own_pseudonym(
    platform: RunningPlatform, tenant: Tenant, js: JetStreamContext
) -> None:
    course_id = str(uuid.uuid4())
    await publish(
        js,
        "courses",
        "course.published.v1",
        tenant,
        {
            "course_id": course_id,
            "municipality": tenant.municipality,
            "library": tenant.library_a,
            "offered_by_partner_id": tenant.partner_b,
            "title": "Digitaal de baas",
            "skill_area": "digital",
        },
    )

    async def course_known() -> bool:
        async with platform.services["partners"].sessions() as session:
            found = await session.execute(
                sa.select(store.known_courses.c.partner_id).where(store.known_courses.c.course_id == course_id)
            )
            return found.scalar_one_or_none() is not None

    await eventually(course_known, what="the partners service to learn who offers the course")
    event_id = await publish(
        js,
        "referrals",
        "referral.enrolled.v1",
        tenant,
        {
            "referral_id": str(uuid.uuid4()),
            "participant_pseudonym": "P-COURSE0001",
            "referring_partner_id": tenant.partner_a,
            "receiving_partner_id": None,
            "library": tenant.library_a,
            "municipality": tenant.municipality,
            "course_id": course_id,
            "enrolment_id": str(uuid.uuid4()),
            "enrolled_at": "2026-02-01T10:00:00Z",
        },
    )
    (referrer,) = await eventually(
        lambda: entries_of(platform, tenant.partner_a_token, tenant.partner_a, event_id), what="the referrer's entry"
    )
    (provider,) = await eventually(
        lambda: entries_of(platform, tenant.partner_b_token, tenant.partner_b, event_id), what="the provider's entry"
    )
    # One participant, one pseudonym per partner: the two cannot match their feeds on it.
    assert referrer["data"]["participant_pseudonym"] != provider["data"]["participant_pseudonym"]
    assert referrer["data"]["participant_pseudonym"].startswith("F-")
    assert provider["data"]["participant_pseudonym"].startswith("F-")


async def test_a_vacancy_reaches_the_volunteer_organisations_that_actively_supply_the_library(
    platform: RunningPlatform, tenant: Tenant, js: JetStreamContext
) -> None:
    organisations: dict[str, str] = {}
    async with platform.client(tenant.staff_a) as api:
        for name in ("active", "draft", "referrer-role"):
            body = {
                "name": f"Vrijwilligers {name}",
                "kind": "volunteer_organisation",
                "municipality": tenant.municipality,
            }
            organisations[name] = (await api.post("/api/v1/partners", json=body)).json()["id"]
            roles = ["referrer"] if name == "referrer-role" else ["volunteer_supplier"]
            partnership = await api.post(
                "/api/v1/partnerships",
                json={
                    "library": tenant.library_a,
                    "partner_id": organisations[name],
                    "roles": roles,
                    "starts_on": "2026-01-01",
                },
            )
            if name != "draft":
                await api.post(f"/api/v1/partnerships/{partnership.json()['id']}/activate")
    async with platform.client(tenant.staff_b) as api:
        body = {"name": "Vrijwilligers elders", "kind": "volunteer_organisation", "municipality": tenant.municipality}
        organisations["other-library"] = (await api.post("/api/v1/partners", json=body)).json()["id"]
        partnership = await api.post(
            "/api/v1/partnerships",
            json={
                "library": tenant.library_b,
                "partner_id": organisations["other-library"],
                "roles": ["volunteer_supplier"],
                "starts_on": "2026-01-01",
            },
        )
        await api.post(f"/api/v1/partnerships/{partnership.json()['id']}/activate")
    event_id = await publish(
        js,
        "volunteers",
        "vacancy.published.v1",
        tenant,
        {
            "vacancy_id": str(uuid.uuid4()),
            "library": tenant.library_a,
            "municipality": tenant.municipality,
            "title": "Taalmaatje",
        },
    )
    operator = tenant.operator
    (entry,) = await eventually(
        lambda: entries_of(platform, operator, organisations["active"], event_id), what="the vacancy in the feed"
    )
    assert entry["data"]["title"] == "Taalmaatje"
    for name in ("draft", "referrer-role", "other-library"):
        assert await entries_of(platform, operator, organisations[name], event_id) == [], name
