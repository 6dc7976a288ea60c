"""A replica handles a consumer's events in stream order, even though FastStream fetches them in batches."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import sqlalchemy as sa

from shared.contracts import Envelope
from shared.unit_of_work import Transaction
from tests.faults.probe import ProbeHappened, probe_event, probe_service
from tests.waiting import eventually


async def test_events_of_a_batch_are_applied_in_stream_order(tmp_path: Path, postgres_url: str) -> None:
    async def apply(tx: Transaction, envelope: Envelope, event: ProbeHappened) -> None:
        # Uneven handling times: handled side by side, later events would overtake earlier ones.
        await asyncio.sleep(random.uniform(0, 0.01))
        await tx.session.execute(
            sa.text("INSERT INTO applied (event_id, number) VALUES (:id, :n)"), {"id": envelope.id, "n": event.number}
        )

    count = 60
    async with probe_service(tmp_path, postgres_url) as probe:
        probe.runtime.consume("probe", ProbeHappened, apply)
        # Published before the consumer starts, so its first fetches are full batches.
        for number in range(count):
            await probe.publish(probe_event(number))
        await probe.runtime.start()

        applied = await eventually(lambda: probe.numbers_in_order(count), what="every event applied")
    assert applied == list(range(count))


async def test_a_lingering_consumer_applies_events_arriving_close_together_in_one_transaction_in_order(
    tmp_path: Path, postgres_url: str
) -> None:
    """A projection nobody waits on gathers what arrives shortly after a first event into one batch (one
    transaction, its round trips once), still in stream order."""
    transactions: list[int] = []

    async def apply(tx: Transaction, envelope: Envelope, event: ProbeHappened) -> None:
        transactions.append((await tx.session.execute(sa.text("SELECT txid_current()"))).scalar_one())
        await tx.session.execute(
            sa.text("INSERT INTO applied (event_id, number) VALUES (:id, :n)"), {"id": envelope.id, "n": event.number}
        )

    count = 8
    async with probe_service(tmp_path, postgres_url) as probe:
        # A linger far longer than the publishing takes, even on a loaded machine: the first event waits for the rest.
        probe.runtime.consume("probe", ProbeHappened, apply, linger_seconds=2.0)
        await probe.runtime.start()  # before the events: each arrives on its own, a little after the one before
        for number in range(count):
            await probe.publish(probe_event(number))
            await asyncio.sleep(0.01)

        applied = await eventually(lambda: probe.numbers_in_order(count), what="every event applied")
    assert applied == list(range(count))
    assert len(transactions) == count and len(set(transactions)) == 1
