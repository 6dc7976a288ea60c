"""The ledger every fault test reports: what was sent, accepted, stored, delivered, duplicated and lost, counted
where it shows (the referrals' outbox and table, the stream, each consumer's inbox, the partner's feed)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import nats
import nats.js.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from tests.faults.stack import REFERRALS_STREAM, plain
from tests.waiting import PATIENCE_SECONDS, eventually


@dataclass
class Ledger:
    """The counts a fault test prints and asserts. `stored` counts referrals in the database, which may
    exceed `accepted` when a request timed out at the gateway after the service had committed it."""

    name: str
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    stored: int = 0
    delivered: int = 0
    duplicates: int = 0
    lost: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    notes: dict[str, Any] = field(default_factory=dict)

    def report(self) -> str:
        line = (
            f"[fault] {self.name}: sent={self.sent} accepted={self.accepted} refused={self.refused} "
            f"stored={self.stored} delivered={self.delivered} duplicates={self.duplicates} lost={self.lost}"
        )
        if self.statuses:
            line += f" statuses={dict(sorted(self.statuses.items()))}"
        if self.notes:
            line += " " + " ".join(f"{k}={v}" for k, v in self.notes.items())
        print(line)
        return line


async def submitted_events(database_url: str) -> dict[str, str]:
    """referral id -> event id of its referral.submitted event, from the referrals service's outbox."""
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch(
            "SELECT event_id, payload FROM referrals.outbox WHERE event_type LIKE '%referral.submitted%'"
        )
    finally:
        await conn.close()
    return {json.loads(bytes(row["payload"]))["data"]["referral_id"]: str(row["event_id"]) for row in rows}


async def stored_referrals(database_url: str) -> set[str]:
    conn = await asyncpg.connect(plain(database_url))
    try:
        return {str(row["id"]) for row in await conn.fetch("SELECT id FROM referrals.referrals")}
    finally:
        await conn.close()


async def feed_copies(database_url: str) -> Counter[str]:
    """event id -> how many feed entries it made (the partners' feed is what a partner sees)."""
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch("SELECT event_id, count(*) AS n FROM partners.feed_entries GROUP BY event_id")
    finally:
        await conn.close()
    return Counter({str(row["event_id"]): row["n"] for row in rows})


async def stream_copies(nats_url: str, stream: str = REFERRALS_STREAM) -> tuple[Counter[str], list[str]]:
    """event id -> copies in the stream, and the event ids in stream order."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        if not info.state.messages:
            return Counter(), []
        sub = await js.pull_subscribe(
            ">",
            stream=stream,
            config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=30),
        )
        order: list[str] = []
        # As many as the consumer counts when made, however slowly they come: a fetch that waited 2 s in vain on a
        # loaded machine is no end of the stream (stopping there would count copies as lost).
        held = (await sub.consumer_info()).num_pending or 0
        # Just after a fault the cluster may still be moving the stream's or the consumer's leader: a fetch then
        # answers 503 (no responders), and is asked again for a while (a full run failed its count on one).
        settling = time.monotonic() + PATIENCE_SECONDS
        while len(order) < held:
            try:
                batch = await sub.fetch(500, timeout=2)
            except TimeoutError:
                assert time.monotonic() < settling, f"{len(order)} of the {held} messages of {stream} read"
                continue
            except nats.js.errors.ServiceUnavailableError:
                if time.monotonic() > settling:
                    raise
                await asyncio.sleep(0.5)
                continue
            order += [json.loads(msg.data).get("id", "") for msg in batch]
        consumer = (await sub.consumer_info()).name
        await sub.unsubscribe()
        await js.delete_consumer(stream, consumer)
        return Counter(order), order
    finally:
        await nc.close()


def subject_matches(pattern: str, subject: str) -> bool:
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(want) == len(have)


async def consumers_of(nats_url: str, subject: str, stream: str = REFERRALS_STREAM) -> list[str]:
    """Durable consumers on `stream` that receive `subject` (`<service>-<handler>`): every consumer of the event."""
    nc = await nats.connect(nats_url)
    try:
        found = []
        for info in await nc.jetstream().consumers_info(stream):
            config = info.config
            filters = list(config.filter_subjects or []) or [config.filter_subject or ">"]
            if config.durable_name and any(subject_matches(f, subject) for f in filters):
                found.append(config.durable_name)
        return sorted(found)
    finally:
        await nc.close()


async def inbox_copies(database_url: str, consumer: str) -> Counter[str]:
    """event id -> inbox rows of one consumer (its schema is the service before the dash)."""
    schema = consumer.split("-", 1)[0]
    conn = await asyncpg.connect(plain(database_url))
    try:
        rows = await conn.fetch(f'SELECT event_id FROM "{schema}".inbox WHERE consumer = $1', consumer)
    finally:
        await conn.close()
    return Counter(str(row["event_id"]) for row in rows)


async def consumers_idle(nats_url: str, stream: str = REFERRALS_STREAM) -> bool:
    nc = await nats.connect(nats_url)
    try:
        return all(
            info.num_pending == 0 and info.num_ack_pending == 0
            for info in await nc.jetstream().consumers_info(stream)
            if info.config.durable_name
        )
    finally:
        await nc.close()


async def settle_deliveries(
    ledger: Ledger, database_url: str, nats_url: str, referral_ids: set[str], *, timeout: float = 30
) -> None:
    """Wait until every referral's event is in the feed, then count copies everywhere: stream, feed, inboxes."""

    async def all_in_feed() -> bool:
        events = await submitted_events(database_url)
        if not referral_ids <= set(events):
            return False
        copies = await feed_copies(database_url)
        return all(copies[events[r]] for r in referral_ids) and await consumers_idle(nats_url)

    with contextlib.suppress(AssertionError):
        await eventually(all_in_feed, timeout=timeout, what="every referral's event in the partner's feed")
    events = await submitted_events(database_url)
    feed = await feed_copies(database_url)
    stream, _ = await stream_copies(nats_url)
    ours = [events[r] for r in referral_ids if r in events]
    ledger.delivered = sum(1 for e in ours if feed[e] >= 1)
    ledger.lost = len(referral_ids) - ledger.delivered
    ledger.duplicates = sum(max(0, feed[e] - 1) for e in ours) + sum(max(0, stream[e] - 1) for e in ours)
    inboxes = {}
    subject = "events.referrals.referral.submitted.v1.municipality.library"
    for consumer in await consumers_of(nats_url, subject):
        rows = await inbox_copies(database_url, consumer)
        inboxes[consumer] = sum(1 for e in ours if rows[e] == 1)
        ledger.duplicates += sum(max(0, rows[e] - 1) for e in ours)
    ledger.notes["inbox"] = inboxes
    ledger.notes["stream_copies"] = sum(stream[e] for e in ours)
