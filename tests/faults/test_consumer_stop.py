"""A stopping consumer lets the batch in hand finish and be acknowledged, and then stops at once: not when its
limit for that batch (STOP_SECONDS) runs out, which under load made every restart of a service 10 s long."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import sqlalchemy as sa

from shared.consumer import STOP_SECONDS
from shared.contracts import Envelope
from shared.unit_of_work import Transaction
from tests.faults.probe import PROBE_STREAM, ProbeHappened, probe_event, probe_service
from tests.waiting import PATIENCE_SECONDS

HELD_SECONDS = 0.5  # how long the test holds the batch in hand after the stop is asked for


async def test_a_stop_waits_for_the_batch_in_hand_and_returns_once_it_is_acknowledged(
    tmp_path: Path, postgres_url: str
) -> None:
    in_hand = asyncio.Event()
    release = asyncio.Event()

    async def apply(tx: Transaction, envelope: Envelope, event: ProbeHappened) -> None:
        in_hand.set()
        await release.wait()
        await tx.session.execute(
            sa.text("INSERT INTO applied (event_id, number) VALUES (:id, :n)"), {"id": envelope.id, "n": event.number}
        )

    async with probe_service(tmp_path, postgres_url) as probe:
        probe.runtime.consume("probe", ProbeHappened, apply)
        await probe.runtime.start()
        (consumer,) = probe.runtime.consumers
        await probe.publish(probe_event(1))
        await asyncio.wait_for(in_hand.wait(), PATIENCE_SECONDS)

        asked = time.monotonic()
        stopping = asyncio.create_task(consumer.stop())
        await asyncio.sleep(HELD_SECONDS)
        assert not stopping.done(), "the stop waits for the batch in hand"
        release.set()
        await asyncio.wait_for(stopping, STOP_SECONDS + 5)
        took = time.monotonic() - asked

        assert await probe.numbers_in_order(1) == [1], "the batch in hand was applied"
        info = await probe.nc.jetstream().consumer_info(PROBE_STREAM, consumer.durable)
        assert (info.num_ack_pending, info.num_pending) == (0, 0), "and acknowledged before the stop returned"
    # Held HELD_SECONDS, then the batch's commit and ack; without the batch put down, the stop waited STOP_SECONDS.
    assert took < HELD_SECONDS + 3 < STOP_SECONDS, f"the stop took {took:.1f} s"
