"""Consumers are idempotent, set poison aside in the dead-letter stream with its reason, and keep going."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec
import nats
import sqlalchemy as sa

from services.partners import store as partner_store
from shared.consumer import CONSUMER, ORIGINAL_SUBJECT, REASON
from shared.contracts import Envelope, nats_subject
from shared.contracts.referrals import Need, ReferralSubmitted, SkillArea
from shared.deadletters import list_dead_letters, replay_dead_letters
from shared.ids import new_id
from shared.messaging import DEAD_LETTER_STREAM, event_stream_name
from tests.conftest import RunningPlatform, Tenant, eventually

FEED_CONSUMER = "partners-referral-feed"


def submitted_event(tenant: Tenant, partner_id: str) -> Envelope:
    data = ReferralSubmitted(
        referral_id=new_id(),
        participant_pseudonym="P-TEST",
        referring_partner_id=UUID(partner_id),
        library=tenant.library_a,
        municipality=tenant.municipality,
        needs=[Need(area=SkillArea.NUMERACY)],
        submitted_at=datetime.now(UTC),
    )
    return Envelope(
        id=new_id(),
        source="/partnernet/referrals",
        type=data.qualified_type(),
        time=datetime.now(UTC),
        subject=f"{tenant.municipality}/{tenant.library_a}",
        data=msgspec.to_builtins(data),
        municipality=tenant.municipality,
        library=tenant.library_a,
    )


def subject_of(envelope: Envelope) -> str:
    return nats_subject("referrals", envelope.type, envelope.municipality, envelope.library)


async def publish(nats_url: str, subject: str, payload: bytes, msg_id: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(
            subject, payload, headers={"Nats-Msg-Id": msg_id}, stream=event_stream_name("referrals")
        )
    finally:
        await nc.close()


async def feed_entries(platform: RunningPlatform, event_id: UUID) -> int:
    async with platform.services["partners"].sessions() as session:
        return (
            await session.execute(sa.select(sa.func.count()).where(partner_store.feed_entries.c.event_id == event_id))
        ).scalar_one()


async def consumer_idle(nats_url: str) -> bool:
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().consumer_info(event_stream_name("referrals"), FEED_CONSUMER)
        return info.num_pending == 0 and info.num_ack_pending == 0
    finally:
        await nc.close()


async def test_the_same_event_delivered_twice_changes_the_feed_once(platform: RunningPlatform, tenant: Tenant) -> None:
    envelope = submitted_event(tenant, tenant.partner_a)
    payload = msgspec.json.encode(envelope)
    # Different message ids, so JetStream's de-duplication lets both through: only the inbox stands in the way.
    await publish(platform.settings.nats_url, subject_of(envelope), payload, f"{envelope.id}-first")
    await publish(platform.settings.nats_url, subject_of(envelope), payload, f"{envelope.id}-again")

    await eventually(lambda: feed_entries(platform, envelope.id), what="the event in the feed")
    await eventually(lambda: consumer_idle(platform.settings.nats_url), what="both copies to be consumed")
    assert await feed_entries(platform, envelope.id) == 1


async def dead_letters_for(nats_url: str, subject: str) -> list[dict]:
    return [d for d in await list_dead_letters(nats_url) if d["original_subject"] == subject]


async def test_undecodable_message_is_dead_lettered_and_the_consumer_goes_on(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    subject = f"events.referrals.referral.submitted.v1.{tenant.municipality}.garbage"
    await publish(platform.settings.nats_url, subject, b"\x00 this is not an event", str(new_id()))

    (letter,) = await eventually(
        lambda: dead_letters_for(platform.settings.nats_url, subject), what="the poison message in the dead letters"
    )
    assert letter["consumer"] == FEED_CONSUMER
    assert letter["reason"].startswith("undecodable")
    assert int(letter["deliveries"]) == 1  # at once: retrying cannot help

    good = submitted_event(tenant, tenant.partner_a)
    await publish(platform.settings.nats_url, subject_of(good), msgspec.json.encode(good), str(good.id))
    await eventually(lambda: feed_entries(platform, good.id), what="the next good event in the feed")


async def test_event_that_keeps_failing_is_dead_lettered_and_can_be_replayed(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    stranger = str(new_id())  # a partner the partners service has never heard of: the feed insert fails
    poison = submitted_event(tenant, stranger)
    await publish(platform.settings.nats_url, subject_of(poison), msgspec.json.encode(poison), str(poison.id))

    (letter,) = await eventually(
        lambda: dead_letters_for(platform.settings.nats_url, subject_of(poison)),
        timeout=30,
        what="the failing event in the dead letters",
    )
    assert letter["reason"].startswith(f"failed {platform.settings.consumer_max_deliveries} times")
    assert await feed_entries(platform, poison.id) == 0

    # The cause goes away (the partner turns up), and the operator replays the dead letter.
    async with platform.services["partners"].sessions.begin() as session:
        await session.execute(
            partner_store.partners.insert().values(
                id=UUID(stranger),
                municipality=tenant.municipality,
                name="Laat aangemeld",
                kind="referrer",
                registered_at=datetime.now(UTC),
            )
        )
    replayed = await replay_dead_letters(platform.settings.nats_url, [letter["sequence"]])
    assert replayed == [letter["sequence"]]
    await eventually(lambda: feed_entries(platform, poison.id), what="the replayed event in the feed")
    assert await dead_letters_for(platform.settings.nats_url, subject_of(poison)) == []


async def test_dead_letter_headers_name_the_consumer_and_the_reason(platform: RunningPlatform, tenant: Tenant) -> None:
    subject = f"events.referrals.referral.submitted.v1.{tenant.municipality}.headers"
    await publish(platform.settings.nats_url, subject, b"{}", str(new_id()))
    (letter,) = await eventually(lambda: dead_letters_for(platform.settings.nats_url, subject), what="the dead letter")
    nc = await nats.connect(platform.settings.nats_url)
    try:
        msg = await nc.jetstream().get_msg(DEAD_LETTER_STREAM, letter["sequence"])
    finally:
        await nc.close()
    assert msg.headers is not None
    assert msg.headers[CONSUMER] == FEED_CONSUMER
    assert msg.headers[ORIGINAL_SUBJECT] == subject
    assert "undecodable" in msg.headers[REASON]
    assert msg.data == b"{}"
