"""Language buddies over HTTP (issue 18): matched to a participant the library took on from a referral, one at a
time, told to the referrer in its feed; the referrals the volunteers service keeps, once and by their newest event;
and the checks of issue 18 holding when requests come at once.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import nats
import pytest
import sqlalchemy as sa

from services.volunteers.store import referrals
from shared.clock import local_today
from shared.consumer import inbox
from shared.contracts import Envelope, nats_subject
from shared.contracts.referrals.events import ReferralAccepted, ReferralSubmitted
from shared.ids import new_id
from shared.messaging import event_stream_name
from tests.e2e.test_volunteers_checks import assign, log, published_vacancy
from tests.fixtures.platform import RunningPlatform
from tests.services.volunteers.volunteer_tenant import (
    VolunteerTenant,
    active_volunteer,
    call,
    course_needing_volunteers,
    envelope_of,
    opening_for,
    person,
    referred_participant,
    volunteer_tenant,
)
from tests.waiting import eventually


@pytest.fixture(scope="module")
async def vt(platform: RunningPlatform) -> VolunteerTenant:
    return await volunteer_tenant(platform)


# --- language buddies ------------------------------------------------------------------------------


async def feed_entries(platform: RunningPlatform, vt: VolunteerTenant, event_type: str) -> list[dict[str, Any]]:
    feed = await call(platform, vt.base.partner_a_token, "GET", f"/api/v1/partners/{vt.base.partner_a}/feed", limit=200)
    return [e for e in feed["items"] if e["type"] == event_type]


async def test_a_buddy_is_matched_to_a_participant_the_library_took_on_one_at_a_time_and_the_referrer_learns_it(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    first = await active_volunteer(platform, vt, certificate=True)
    second = await active_volunteer(platform, vt, certificate=True)
    waiting = await referred_participant(platform, vt, accept=False)
    participant = await referred_participant(platform, vt)

    nobody = await assign(platform, vt, first["id"], kind="buddy", participant_pseudonym="P-NOBODY234")
    not_taken_on = await assign(
        platform, vt, first["id"], kind="buddy", participant_pseudonym=waiting["participant_pseudonym"]
    )
    matched = await assign(platform, vt, first["id"], kind="buddy", referral_id=participant["id"])
    same_again = await assign(platform, vt, first["id"], kind="buddy", referral_id=participant["id"])
    another = await assign(
        platform, vt, second["id"], kind="buddy", participant_pseudonym=participant["participant_pseudonym"]
    )

    assert nobody.status_code == 422, nobody.text
    assert not_taken_on.status_code == 409 and not_taken_on.json()["state"] == "submitted", not_taken_on.text
    assert matched["referral_id"] == participant["id"], matched
    assert matched["participant_pseudonym"] == participant["participant_pseudonym"]
    assert same_again.status_code == 409 and "buddy already" in same_again.json()["detail"]
    assert another.status_code == 409 and "has a buddy already" in another.json()["detail"]

    async def told() -> list[dict[str, Any]] | None:
        entries = await feed_entries(platform, vt, "nl.partnernet.buddy.assigned.v1")
        return [e for e in entries if e["data"]["referral_id"] == participant["id"]] or None

    (entry,) = await eventually(told, what="buddy.assigned in the referrer's feed")
    assert entry["data"]["assignment_id"] == matched["id"]
    assert "volunteer_id" not in entry["data"]  # which volunteer stays with the library
    # The participant as the referrer knows it in its own feed, not the platform's pseudonym.
    accepted = [
        e
        for e in await feed_entries(platform, vt, "nl.partnernet.referral.accepted.v1")
        if e["data"]["referral_id"] == participant["id"]
    ]
    assert entry["data"]["participant_pseudonym"] == accepted[0]["data"]["participant_pseudonym"]
    assert entry["data"]["participant_pseudonym"] != participant["participant_pseudonym"]

    ended = await call(platform, vt.staff_a, "POST", f"/api/v1/assignments/{matched['id']}/end")
    assert ended["status"] == "ended", ended
    next_buddy = await assign(platform, vt, second["id"], kind="buddy", referral_id=participant["id"])
    assert next_buddy["status"] == "active", next_buddy

    async def ended_told() -> list[dict[str, Any]] | None:
        entries = await feed_entries(platform, vt, "nl.partnernet.buddy.ended.v1")
        return [e for e in entries if e["data"]["assignment_id"] == matched["id"]] or None

    await eventually(ended_told, what="buddy.ended in the referrer's feed")


async def publish_envelope(nats_url: str, envelope: Envelope, message_id: str) -> None:
    """As the referrals service's relay would, under a message id of our own: a redelivery JetStream lets through."""
    nc = await nats.connect(nats_url)
    try:
        subject = nats_subject("referrals", envelope.type, envelope.municipality, envelope.library)
        await nc.jetstream().publish(
            subject,
            msgspec.json.encode(envelope),
            headers={"Nats-Msg-Id": message_id},
            stream=event_stream_name("referrals"),
        )
    finally:
        await nc.close()


# --- at once -----------------------------------------------------------------------------------------


async def test_at_once_one_application_one_buddy_and_a_days_worth_of_hours(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    vacancy = await published_vacancy(platform, vt, "Digicafé-vrijwilliger")
    email = f"roos.{uuid.uuid4().hex[:6]}@example.org"
    applications = [
        (vt.staff_a, {"person": person("Roos Bakker", email=email), "vacancy_id": vacancy["id"]}),
        (vt.staff_a, {"person": person("Roos Bakker", email=email.upper()), "vacancy_id": vacancy["id"]}),
        (
            vt.organisation_token,
            {
                "person": person("Roos Bakker", email=email.title()),
                "vacancy_id": vacancy["id"],
                "library": vt.library_a,
            },
        ),
    ] * 2
    volunteer = await active_volunteer(platform, vt)
    guides = [
        await assign(
            platform,
            vt,
            volunteer["id"],
            kind="course",
            opening_id=(await opening_for(platform, vt, await course_needing_volunteers(platform, vt, 1)))["id"],
        )
        for _ in range(2)
    ]
    buddies = [await active_volunteer(platform, vt, certificate=True) for _ in range(3)]
    participant = await referred_participant(platform, vt)

    applied, logged, matched = await asyncio.gather(
        asyncio.gather(*(call(platform, token, "POST", "/api/v1/applications", body) for token, body in applications)),
        asyncio.gather(*(log(platform, vt, guides[i % 2]["id"], local_today(), 600) for i in range(4))),
        asyncio.gather(*(assign(platform, vt, b["id"], kind="buddy", referral_id=participant["id"]) for b in buddies)),
    )

    def outcomes(results: list[Any]) -> list[int]:
        return sorted(r.status_code if isinstance(r, httpx.Response) else 201 for r in results)

    assert outcomes(applied) == [201, 409, 409, 409, 409, 409]
    assert outcomes(logged) == [201, 201, 409, 409]
    assert outcomes(matched) == [201, 409, 409]
    totals = await call(platform, vt.staff_a, "GET", "/api/v1/volunteers/hours", volunteer_id=volunteer["id"])
    assert [t["minutes"] for t in totals["items"]] == [1200]


async def test_the_volunteers_service_knows_a_referral_once_and_by_its_newest_event_whatever_the_order(
    platform: RunningPlatform, vt: VolunteerTenant
) -> None:
    """Events of one referral handled out of order (replicas) or twice (a redelivery): the newest state, once."""
    referral_id, pseudonym, now = new_id(), f"P-ORDER{uuid.uuid4().hex[:6].upper()}", datetime.now(UTC)
    parties: dict[str, Any] = {
        "referral_id": referral_id,
        "participant_pseudonym": pseudonym,
        "referring_partner_id": uuid.UUID(vt.base.partner_a),
        "library": vt.library_a,
        "municipality": vt.municipality,
    }
    accepted = ReferralAccepted(**parties, receiving_partner_id=None, accepted_at=now)
    submitted = ReferralSubmitted(**parties, needs=[], submitted_at=now - timedelta(minutes=5))
    later = envelope_of(accepted, municipality=vt.municipality, library=vt.library_a)
    earlier = envelope_of(submitted, municipality=vt.municipality, library=vt.library_a)
    earlier = msgspec.structs.replace(earlier, time=now - timedelta(minutes=5))
    for envelope, message_id in ((later, "first"), (earlier, "second"), (later, "redelivered")):
        await publish_envelope(platform.settings.nats_url, envelope, f"{envelope.id}-{message_id}")

    async def handled() -> bool:
        async with platform.services["volunteers"].sessions() as session:
            done = (
                await session.execute(
                    sa.select(sa.func.count()).where(
                        inbox.c.consumer == "volunteers-known-referrals", inbox.c.event_id.in_([later.id, earlier.id])
                    )
                )
            ).scalar_one()
        return done == 2

    await eventually(handled, what="both referral events handled")
    async with platform.services["volunteers"].sessions() as session:
        (row,) = (
            await session.execute(
                sa.select(referrals.known_referrals).where(referrals.known_referrals.c.id == referral_id)
            )
        ).all()
    assert row.status == "accepted" and row.participant_pseudonym == pseudonym
    buddy = await active_volunteer(platform, vt, certificate=True)
    matched = await assign(platform, vt, buddy["id"], kind="buddy", participant_pseudonym=pseudonym)
    assert matched["referral_id"] == str(referral_id), matched
