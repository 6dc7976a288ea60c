"""Consumers are idempotent, set poison aside in the dead-letter stream with its reason, and keep going."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import nats
import nats.js.errors
import sqlalchemy as sa

from services.partners import store as partner_store
from shared.consumer import CONSUMER, ORIGINAL_SUBJECT, REASON
from shared.contracts import Envelope, nats_subject
from shared.contracts.referrals.events import Need, ReferralSubmitted
from shared.contracts.vocabulary import SkillArea
from shared.deadletters import list_dead_letters, replay_dead_letters
from shared.ids import new_id
from shared.messaging import DEAD_LETTER_STREAM, event_stream_name
from shared.unit_of_work import Transaction
from tests.faults.ledger import Ledger, consumers_of
from tests.faults.probe import PROBE_STREAM, PROBE_SUBJECT, ProbeHappened, probe_event, probe_service
from tests.faults.stack import plain
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.waiting import eventually


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


async def publish(nats_url: str, subject: str, payload: bytes, msg_id: str, stream: str | None = None) -> None:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(
            subject, payload, headers={"Nats-Msg-Id": msg_id}, stream=stream or event_stream_name("referrals")
        )
    finally:
        await nc.close()


async def feed_consumer(nats_url: str) -> str:
    """The partners service's durable consumer that turns referral.submitted into feed entries."""
    subject = "events.referrals.referral.submitted.v1.municipality.library"
    # The partners service has more than one consumer of it (the notices too): the feed's by its name.
    (name,) = [c for c in await consumers_of(nats_url, subject) if c == "partners-feed-referrals"]
    return name


async def feed_entries(platform: RunningPlatform, event_id: UUID) -> int:
    async with platform.services["partners"].sessions() as session:
        return (
            await session.execute(sa.select(sa.func.count()).where(partner_store.feed_entries.c.event_id == event_id))
        ).scalar_one()


async def consumer_idle(nats_url: str, durable: str) -> bool:
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().consumer_info(event_stream_name("referrals"), durable)
        return info.num_pending == 0 and info.num_ack_pending == 0
    finally:
        await nc.close()


async def test_the_same_event_delivered_twice_changes_the_feed_once(platform: RunningPlatform, tenant: Tenant) -> None:
    envelope = submitted_event(tenant, tenant.partner_a)
    payload = msgspec.json.encode(envelope)
    # Different message ids, so JetStream's de-duplication lets both through: only the inbox stands in the way.
    await publish(platform.settings.nats_url, subject_of(envelope), payload, f"{envelope.id}-first")
    await publish(platform.settings.nats_url, subject_of(envelope), payload, f"{envelope.id}-again")

    durable = await feed_consumer(platform.settings.nats_url)
    await eventually(lambda: feed_entries(platform, envelope.id), what="the event in the feed")
    await eventually(lambda: consumer_idle(platform.settings.nats_url, durable), what="both copies to be consumed")
    assert await feed_entries(platform, envelope.id) == 1


async def dead_letters_for(nats_url: str, subject: str, consumer: str | None = None) -> list[dict]:
    return [
        d
        for d in await list_dead_letters(nats_url)
        if d["original_subject"] == subject and consumer in (None, d["consumer"])
    ]


async def test_undecodable_message_is_dead_lettered_and_the_consumer_goes_on(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    subject = f"events.referrals.referral.submitted.v1.{tenant.municipality}.garbage"
    await publish(platform.settings.nats_url, subject, b"\x00 this is not an event", str(new_id()))
    durable = await feed_consumer(platform.settings.nats_url)

    (letter,) = await eventually(
        lambda: dead_letters_for(platform.settings.nats_url, subject, durable),
        what="the poison message in the dead letters",
    )
    assert letter["reason"].startswith("undecodable")
    assert int(letter["deliveries"]) == 1  # at once: retrying cannot help

    good = submitted_event(tenant, tenant.partner_a)
    await publish(platform.settings.nats_url, subject_of(good), msgspec.json.encode(good), str(good.id))
    await eventually(lambda: feed_entries(platform, good.id), what="the next good event in the feed")


async def test_dead_letter_headers_name_the_consumer_and_the_reason(platform: RunningPlatform, tenant: Tenant) -> None:
    subject = f"events.referrals.referral.submitted.v1.{tenant.municipality}.headers"
    await publish(platform.settings.nats_url, subject, b"{}", str(new_id()))
    durable = await feed_consumer(platform.settings.nats_url)
    (letter,) = await eventually(
        lambda: dead_letters_for(platform.settings.nats_url, subject, durable), what="the dead letter"
    )
    nc = await nats.connect(platform.settings.nats_url)
    try:
        msg = await nc.jetstream().get_msg(DEAD_LETTER_STREAM, letter["sequence"])
    finally:
        await nc.close()
    assert msg.headers is not None
    assert msg.headers[CONSUMER] == durable
    assert msg.headers[ORIGINAL_SUBJECT] == subject
    assert "undecodable" in msg.headers[REASON]
    assert msg.data == b"{}"


# --- poison among good events, on a consumer of the test's own -------------------------------------
# The mechanism (shared/consumer.py) on its own: an event whose handler keeps failing, between good ones.
# The effect table has no unique key, so only the inbox keeps a replayed event from being applied twice.


async def applied(database_url: str) -> dict[int, int]:
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch("SELECT number, count(*) AS n FROM faultprobe.applied GROUP BY number")
    finally:
        await conn.close()
    return {row["number"]: row["n"] for row in rows}


async def test_poison_among_good_events_is_set_aside_and_a_replay_after_the_fix_applies_it_once(
    tmp_path: Path, postgres_url: str
) -> None:
    broken = {"yes"}  # the cause of the failure, until an operator fixes it

    async def apply(tx: Transaction, envelope: Envelope, event: ProbeHappened) -> None:
        if event.poison and broken:
            raise RuntimeError("the poison event cannot be applied yet")
        await tx.session.execute(
            sa.text("INSERT INTO applied (event_id, number) VALUES (:id, :n)"), {"id": envelope.id, "n": event.number}
        )

    subject = PROBE_SUBJECT
    ledger = Ledger("poison among good events, dead-lettered, replayed after the fix")
    async with probe_service(tmp_path, postgres_url, consumer_max_deliveries=2) as probe:
        probe.runtime.consume("probe", ProbeHappened, apply)
        await probe.runtime.start()
        events = [probe_event(n, poison=n == 3) for n in range(1, 8)]
        for envelope in events:
            await probe.publish(envelope)
        garbage_subject = "events.faultprobe.probe.happened.v1.garbage._"
        await probe.nc.jetstream().publish(garbage_subject, b"not json", headers={"Nats-Msg-Id": str(new_id())})
        ledger.sent = len(events) + 1

        good = {n for n in range(1, 8) if n != 3}

        async def good_ones_applied() -> bool:
            return set(await applied(probe.database_url)) == good

        await eventually(good_ones_applied, what="the good events to flow past the poison")
        (letter,) = await eventually(
            lambda: dead_letters_for(probe.broker.url, subject, "faultprobe-probe"),
            timeout=30,
            what="the poison set aside",
        )
        (garbage,) = await dead_letters_for(probe.broker.url, garbage_subject, "faultprobe-probe")
        assert letter["reason"].startswith("failed 2 times")
        assert garbage["reason"].startswith("undecodable") and int(garbage["deliveries"]) == 1
        assert 3 not in await applied(probe.database_url)

        broken.clear()  # the operator fixes the cause, then replays
        assert await replay_dead_letters(probe.broker.url, [letter["sequence"]]) == [letter["sequence"]]
        await eventually(lambda: _has(applied(probe.database_url), 3), what="the replayed event to be applied")
        # A second replay of the same event (say, by a second operator) changes nothing.
        poison = events[2]
        again = await probe.nc.jetstream().publish(
            subject, msgspec.json.encode(poison), headers={"Nats-Msg-Id": f"{poison.id}-again"}
        )
        # Acked means handled and committed (the consumer acks after its transaction): count after that, not later.
        await eventually(
            lambda: _acked_through(probe.nc, PROBE_STREAM, "faultprobe-probe", again.seq),
            what="the second replay handled",
        )
        counts = await applied(probe.database_url)
        ledger.accepted = ledger.delivered = sum(1 for n in counts if counts[n] >= 1)
        ledger.duplicates = sum(n - 1 for n in counts.values())
        ledger.lost = len(events) - ledger.delivered
        ledger.notes["dead_letters"] = 2
        ledger.report()

    assert counts == {n: 1 for n in range(1, 8)}, "every event applied exactly once, the replayed poison included"
    assert ledger.lost == 0 and ledger.duplicates == 0


async def _has(counts: object, number: int) -> bool:
    return number in await counts  # type: ignore[misc]


async def _acked_through(nc: nats.NATS, stream: str, durable: str, sequence: int) -> bool:
    """Whether the consumer has acked every message of the stream up to `sequence`."""
    info = await nc.jetstream().consumer_info(stream, durable)
    return info.ack_floor is not None and (info.ack_floor.stream_seq or 0) >= sequence


async def _idle(nc: nats.NATS, stream: str, durable: str) -> bool:
    try:
        info = await nc.jetstream().consumer_info(stream, durable)
    except nats.js.errors.NotFoundError:
        return False
    return info.num_pending == 0 and info.num_ack_pending == 0


EFFECTS_BY_CONSUMER = (
    """CREATE TABLE applied_by (consumer text NOT NULL, event_id uuid NOT NULL, number integer NOT NULL)"""
)


async def applied_by(database_url: str) -> dict[tuple[str, int], int]:
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch("SELECT consumer, number, count(*) AS n FROM faultprobe.applied_by GROUP BY 1, 2")
    finally:
        await conn.close()
    return {(row["consumer"], row["number"]): row["n"] for row in rows}


async def test_a_replay_goes_to_the_consumer_that_failed_and_no_other_consumer_of_the_subject(
    tmp_path: Path, postgres_url: str
) -> None:
    broken = {"yes"}

    def applier(consumer: str, fails_on_poison: bool) -> Any:
        async def apply(tx: Transaction, envelope: Envelope, event: ProbeHappened) -> None:
            if event.poison and fails_on_poison and broken:
                raise RuntimeError(f"{consumer} cannot apply the poison event yet")
            await tx.session.execute(
                sa.text("INSERT INTO applied_by VALUES (:c, :id, :n)"),
                {"c": consumer, "id": envelope.id, "n": event.number},
            )

        return apply

    subject = PROBE_SUBJECT
    garbage_subject = "events.faultprobe.probe.happened.v1.garbage._"
    async with probe_service(tmp_path, postgres_url, EFFECTS_BY_CONSUMER, consumer_max_deliveries=2) as probe:
        nats_url, database_url = probe.broker.url, probe.database_url
        # Two consumers of one subject: `picky` fails on the poison event, `easy` handles everything.
        probe.runtime.consume("picky", ProbeHappened, applier("picky", fails_on_poison=True))
        probe.runtime.consume("easy", ProbeHappened, applier("easy", fails_on_poison=False))
        await probe.runtime.start()
        for envelope in [probe_event(n, poison=n == 2) for n in range(1, 4)]:
            await probe.publish(envelope)
        await probe.nc.jetstream().publish(garbage_subject, b"not json", headers={"Nats-Msg-Id": str(new_id())})

        (poison,) = await eventually(
            lambda: dead_letters_for(nats_url, subject, "faultprobe-picky"), timeout=30, what="picky's dead letter"
        )
        await eventually(lambda: _idle(probe.nc, PROBE_STREAM, "faultprobe-easy"), what="easy to handle everything")
        assert await dead_letters_for(nats_url, subject, "faultprobe-easy") == []
        garbage = await eventually(
            lambda: _both(dead_letters_for(nats_url, garbage_subject)), what="garbage from both consumers"
        )

        broken.clear()
        replayed = await replay_dead_letters(nats_url, [poison["sequence"], *(g["sequence"] for g in garbage)])
        assert len(replayed) == 3
        await eventually(lambda: _has_key(applied_by(database_url), ("picky", 2)), what="picky applies the replay")
        for durable in ("faultprobe-picky", "faultprobe-easy"):
            idle = partial(_idle, probe.nc, PROBE_STREAM, durable)
            await eventually(idle, what=f"{durable} idle after the replay")
        # The replayed garbage went back to each consumer that had set it aside, once: one dead letter each again.
        again = await eventually(
            lambda: _both(dead_letters_for(nats_url, garbage_subject)), what="the garbage set aside again"
        )
        letters = await list_dead_letters(nats_url)
        counts = await applied_by(database_url)

    assert counts == {(c, n): 1 for c in ("picky", "easy") for n in (1, 2, 3)}, "each consumer applied each event once"
    assert sorted(letter["consumer"] for letter in again) == ["faultprobe-easy", "faultprobe-picky"]
    assert len(letters) == 2, "no consumer set the replayed poison aside again; the garbage did not multiply"


async def _both(letters: Any) -> list[dict] | None:
    found = await letters
    return found if {letter["consumer"] for letter in found} == {"faultprobe-picky", "faultprobe-easy"} else None


async def _has_key(counts: Any, key: tuple[str, int]) -> bool:
    return key in await counts
