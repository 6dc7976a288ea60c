"""The outbox relay dies after JetStream acknowledged a batch but before it marked the rows sent: the batch is
published again, JetStream drops the copies (same Nats-Msg-Id), and a copy that slips past the duplicate
window is dropped by the consumers' inbox."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import nats

from launcher.embedded import EmbeddedNats
from tests.faults.ledger import (
    Ledger,
    consumers_idle,
    feed_copies,
    settle_deliveries,
    stored_referrals,
    stream_copies,
    submitted_events,
)
from tests.faults.stack import (
    REFERRALS_STREAM,
    fault_settings,
    gateway,
    plain,
    register_tenant,
    start_services,
    stop_services,
)
from tests.servers import create_database, drop_database
from tests.waiting import eventually


class DiesBeforeMarkingSent:
    """Stands in for the relay's `settle`. Once armed, the next batch it is to mark sent (acknowledged by
    JetStream) fails instead, as if the process had died between the acks and the update."""

    def __init__(self, settle: Any) -> None:
        self._settle = settle
        self.armed = False
        self.deaths = 0

    async def __call__(self, db: Any, rows: Any, outcomes: Any) -> int:
        if self.armed:
            self.armed = False
            self.deaths += 1
            raise ConnectionResetError("the relay died after publishing, before marking the rows sent")
        result: int = await self._settle(db, rows, outcomes)
        return result


async def unsent(database_url: str) -> int:
    conn = await asyncpg.connect(plain(database_url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM referrals.outbox WHERE sent_at IS NULL"))
    finally:
        await conn.close()


async def test_a_batch_published_but_not_marked_sent_is_published_again_and_delivered_once(
    tmp_path: Path, postgres_url: str
) -> None:
    broker = EmbeddedNats(tmp_path / "nats")
    broker.start()
    database_url = await create_database(postgres_url)
    settings = fault_settings(broker.url, database_url, tmp_path / "data")
    services = await start_services(settings, ["partners", "referrals"])
    relay = services["referrals"].relay
    engine = DiesBeforeMarkingSent(relay.settle)
    relay.settle = engine  # type: ignore[method-assign]
    publishes: Counter[str] = Counter()
    put_out = relay.outlet.put_out  # type: ignore[attr-defined]

    def count(rows: Sequence[Any], outcomes: Sequence[BaseException | None]) -> None:
        publishes.update(str(row["event_id"]) for row, outcome in zip(rows, outcomes, strict=True) if outcome is None)

    async def counted(rows: Sequence[Any], answered: Callable[[], None]) -> asyncio.Future[Any]:
        # The outbox relay puts batches out (shared/relay.py `overlap`): each counted once its acks are in.
        answers = await put_out(rows, answered)
        answers.add_done_callback(lambda done: None if done.cancelled() else count(rows, done.result()))
        return answers

    relay.outlet.put_out = counted  # type: ignore[attr-defined]
    ledger = Ledger("relay died between the JetStream acks and marking the rows sent")
    try:
        async with gateway(settings) as base_url:
            tenant = await register_tenant(base_url, settings)
            await eventually(lambda: _zero(unsent(database_url)), what="the outbox to be empty before the crash")
            before = await stored_referrals(database_url)
            publishes.clear()
            engine.armed = True
            async with tenant.client() as api:
                responses = await asyncio.gather(
                    *(api.post("/api/v1/referrals", json=tenant.referral()) for _ in range(12))
                )
            ledger.sent = len(responses)
            ledger.accepted = sum(r.status_code == 201 for r in responses)
            stored = await stored_referrals(database_url) - before
            ledger.stored = len(stored)
            await eventually(lambda: _zero(unsent(database_url)), timeout=20, what="the relay to recover and mark")
            await settle_deliveries(ledger, database_url, broker.url, stored)
            events = await submitted_events(database_url)
            ours = [events[r] for r in stored]
            ledger.notes["relay_deaths"] = engine.deaths
            ledger.notes["published_twice"] = sum(1 for e in ours if publishes[e] >= 2)
            ledger.report()

            # A copy published again after JetStream's duplicate window (here: under another message id)
            # reaches the consumers, and their inbox drops it.
            replayed = ours[0]
            await republish_under_new_id(broker.url, database_url, replayed)
            await eventually(lambda: consumers_idle(broker.url), what="the consumers to take the late copy")
            copies_in_stream = (await stream_copies(broker.url))[0][replayed]
            copies_in_feed = (await feed_copies(database_url))[replayed]
            print(
                f"[fault] late copy past the duplicate window: in stream {copies_in_stream}, in feed {copies_in_feed}"
            )
    finally:
        await stop_services(services.values())
        broker.stop()
        await drop_database(postgres_url, database_url)

    assert ledger.accepted == ledger.sent == ledger.stored
    assert engine.deaths == 1
    assert ledger.notes["published_twice"] >= 1, "the batch the relay died on was published again"
    assert ledger.notes["stream_copies"] == ledger.stored, "JetStream kept one copy of each (Nats-Msg-Id)"
    assert ledger.delivered == ledger.stored and ledger.lost == 0 and ledger.duplicates == 0
    assert all(n == ledger.stored for n in ledger.notes["inbox"].values()), ledger.notes
    assert copies_in_stream == 2 and copies_in_feed == 1


async def _zero(count: Any) -> bool:
    return await count == 0


async def republish_under_new_id(nats_url: str, database_url: str, event_id: str) -> None:
    conn = await asyncpg.connect(plain(database_url))
    try:
        row = await conn.fetchrow("SELECT subject, payload FROM referrals.outbox WHERE event_id = $1::uuid", event_id)
    finally:
        await conn.close()
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(
            row["subject"], bytes(row["payload"]), stream=REFERRALS_STREAM, headers={"Nats-Msg-Id": f"{event_id}-late"}
        )
    finally:
        await nc.close()
