"""The partners service's process is killed (SIGKILL) in the middle of a backlog of referral events and started
again: no event is lost and none is applied twice."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import uuid
from pathlib import Path

import asyncpg
import nats

from launcher.embedded import EmbeddedNats
from tests.faults.ledger import Ledger, settle_deliveries, stored_referrals
from tests.faults.stack import (
    REFERRALS_STREAM,
    fault_settings,
    gateway,
    plain,
    register_tenant,
    shorten_ack_wait,
    start_service_process,
    start_services,
    stop_services,
    wait_until_answering,
)
from tests.servers import create_database, drop_database
from tests.waiting import eventually

# Large enough that the consumer, a batch at a time, is still in the backlog when killed
# (at 150 it once finished the whole backlog before the kill landed).
BACKLOG = 600
# Tries of one submission whose answer leaves its outcome open (409 in progress, 503, 504).
RETRIES = 10


async def feed_size(database_url: str) -> int:
    conn = await asyncpg.connect(plain(database_url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM partners.feed_entries"))
    finally:
        await conn.close()


async def unacknowledged(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        return sum(info.num_ack_pending or 0 for info in await nc.jetstream().consumers_info(REFERRALS_STREAM))
    finally:
        await nc.close()


def skipped_as_handled(log: Path) -> int:
    """Redeliveries the inbox recognised: the effect had committed, the ack had not been sent."""
    count = 0
    for line in log.read_text(errors="replace").splitlines():
        try:
            message = json.loads(line).get("message", "")
        except ValueError:
            continue
        count += int("already handled" in str(message))
    return count


async def test_a_consumer_killed_mid_backlog_loses_nothing_and_applies_nothing_twice(
    tmp_path: Path, postgres_url: str
) -> None:
    broker = EmbeddedNats(tmp_path / "nats")
    broker.start()
    database_url = await create_database(postgres_url)
    settings = fault_settings(broker.url, database_url, tmp_path / "data")
    log = tmp_path / "partners.log"
    partners = start_service_process("partners", settings, log)
    services = {}
    ledger = Ledger(f"partners process SIGKILLed in a backlog of {BACKLOG} events")
    try:
        await wait_until_answering(broker.url, "partners", partners)
        services = await start_services(settings, ["referrals"])
        await shorten_ack_wait(broker.url)  # an event whose ack died with the process returns in 2s, not 30s
        async with gateway(settings) as base_url:
            tenant = await register_tenant(base_url, settings)
            before = await stored_referrals(database_url)
            in_feed_before = await feed_size(database_url)

            os.kill(partners.pid, signal.SIGSTOP)  # the backlog builds while the consumer is frozen
            async with tenant.client() as api:

                async def submit() -> int:
                    # As a client should: with an Idempotency-Key, and the same request again after an answer
                    # that says nothing about the outcome (a 504 when the gateway stopped waiting on a loaded
                    # machine, while the referral may have been stored): the retry gets the stored answer.
                    body, key = tenant.referral(), str(uuid.uuid4())
                    for _ in range(RETRIES):
                        response = await api.post("/api/v1/referrals", json=body, headers={"Idempotency-Key": key})
                        if response.status_code not in (409, 503, 504):  # 409: the first try still running
                            return response.status_code
                        ledger.notes["answers_retried"] = ledger.notes.get("answers_retried", 0) + 1
                        await asyncio.sleep(1)
                    return response.status_code

                for _ in range(BACKLOG // 10):
                    statuses = await asyncio.gather(*(submit() for _ in range(10)))
                    ledger.sent += len(statuses)
                    ledger.accepted += sum(status == 201 for status in statuses)
            os.kill(partners.pid, signal.SIGCONT)

            async def part_of_the_backlog_handled() -> int:
                return (await feed_size(database_url)) - in_feed_before >= BACKLOG // 5

            await eventually(part_of_the_backlog_handled, timeout=30, what="the consumer to work through the backlog")
            ledger.notes["unacked_in_hand_when_killed"] = await unacknowledged(broker.url)
            partners.send_signal(signal.SIGKILL)
            partners.wait(timeout=10)
            handled_at_kill = await feed_size(database_url) - in_feed_before
            ledger.notes["in_feed_when_killed"] = handled_at_kill

            partners = start_service_process("partners", settings, log)
            await wait_until_answering(broker.url, "partners", partners)
            stored = await stored_referrals(database_url) - before
            ledger.stored = len(stored)
            await settle_deliveries(ledger, database_url, broker.url, stored, timeout=45)
            ledger.notes["redeliveries_skipped_by_inbox"] = skipped_as_handled(log)
    finally:
        ledger.report()
        if partners.poll() is None:
            partners.send_signal(signal.SIGTERM)
            try:
                partners.wait(timeout=15)
            except subprocess.TimeoutExpired:
                partners.kill()
        await stop_services(services.values())
        broker.stop()
        await drop_database(postgres_url, database_url)

    assert ledger.accepted == ledger.sent == ledger.stored == BACKLOG
    assert 0 < ledger.notes["in_feed_when_killed"] < BACKLOG, "killed in the middle of the backlog"
    assert ledger.delivered == BACKLOG and ledger.lost == 0
    assert ledger.duplicates == 0
    assert ledger.notes["inbox"] and all(n == BACKLOG for n in ledger.notes["inbox"].values()), ledger.notes
    assert ledger.notes["stream_copies"] == BACKLOG
