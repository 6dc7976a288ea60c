"""NATS stops while partners keep submitting through the gateway: every request succeeds or is a clear 503/504,
and once NATS is back every accepted referral reaches every consumer exactly once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from launcher.embedded import EmbeddedNats
from tests.faults.ledger import Ledger, settle_deliveries, stored_referrals
from tests.faults.stack import (
    PROBLEM,
    FaultTenant,
    fault_settings,
    gateway,
    register_tenant,
    shorten_ack_wait,
    start_services,
    stop_services,
)
from tests.servers import create_database, drop_database

CLEAR_REFUSALS = {503: "urn:partnernet:problem:service-unavailable", 504: "urn:partnernet:problem:service-timeout"}


async def submit_steadily(
    tenant: FaultTenant,
    ledger: Ledger,
    accepted: set[str],
    unclear: list[str],
    until: float,
    workers: int = 3,
    accepted_after: float | None = None,
    give_up_at: float | None = None,
) -> None:
    """Submissions from `workers` clients until `until`; with `accepted_after`, on (up to `give_up_at`) until one
    submitted after that moment is accepted: on a loaded machine NATS's return takes the clients seconds to see."""
    recovered = asyncio.Event()

    def going_on() -> bool:
        now = time.monotonic()
        if now < until:
            return True
        return accepted_after is not None and not recovered.is_set() and now < (give_up_at or until)

    async def worker() -> None:
        async with tenant.client(timeout=20) as api:
            while going_on():
                sent_at = time.monotonic()
                ledger.sent += 1
                try:
                    response = await api.post("/api/v1/referrals", json=tenant.referral())
                except httpx.HTTPError as exc:
                    unclear.append(f"no response: {exc!r}")
                    continue
                ledger.statuses[str(response.status_code)] += 1
                if response.status_code == 201:
                    ledger.accepted += 1
                    accepted.add(response.json()["id"])
                    if accepted_after is not None and sent_at >= accepted_after:
                        recovered.set()
                elif (
                    response.status_code in CLEAR_REFUSALS
                    and response.headers["content-type"].startswith(PROBLEM)
                    and response.json()["type"] == CLEAR_REFUSALS[response.status_code]
                ):
                    ledger.refused += 1
                else:
                    unclear.append(f"{response.status_code} {response.text[:200]}")
                await asyncio.sleep(0.02)

    await asyncio.gather(*(worker() for _ in range(workers)))


async def test_submissions_during_a_nats_outage_are_refused_clearly_and_every_accepted_one_is_delivered_once(
    tmp_path: Path, postgres_url: str
) -> None:
    broker = EmbeddedNats(tmp_path / "nats")
    broker.start()
    database_url = await create_database(postgres_url)
    settings = fault_settings(broker.url, database_url, tmp_path / "data", rpc_timeout_seconds=1.5)
    services = await start_services(settings, ["partners", "referrals"])
    assert await shorten_ack_wait(broker.url), "the referrals stream has consumers"
    ledger = Ledger("nats stopped for 2s during a stream of submissions")
    accepted: set[str] = set()
    unclear: list[str] = []
    try:
        async with gateway(settings) as base_url:
            tenant = await register_tenant(base_url, settings)
            before = await stored_referrals(database_url)
            started = time.monotonic()
            back_at = started + 3.0  # NATS stopped after 1 s for 2 s
            stream = asyncio.create_task(
                submit_steadily(
                    tenant,
                    ledger,
                    accepted,
                    unclear,
                    until=started + 5.0,
                    accepted_after=back_at,
                    give_up_at=started + 90,
                )
            )
            await asyncio.sleep(1.0)
            await asyncio.to_thread(broker.stop)
            await asyncio.sleep(2.0)
            await asyncio.to_thread(broker.start)
            await stream
            stored = await stored_referrals(database_url) - before
            ledger.stored = len(stored)
            # Every referral that exists must reach the feed, including one whose reply the gateway gave up on.
            await settle_deliveries(ledger, database_url, broker.url, stored, timeout=45)
            ledger.notes["stored_but_not_acknowledged"] = len(stored - accepted)
    finally:
        ledger.report()
        await stop_services(services.values())
        broker.stop()
        await drop_database(postgres_url, database_url)

    assert unclear == [], "every request either succeeds or is a clear 503/504 problem"
    assert ledger.refused > 0, "the outage must have been felt"
    assert ledger.statuses["201"] > 0, "submissions are accepted again once NATS is back"
    assert accepted <= stored, "a 201 means the referral is stored"
    assert ledger.delivered == ledger.stored >= ledger.accepted
    assert ledger.lost == 0
    assert ledger.duplicates == 0
    assert all(count == ledger.stored for count in ledger.notes["inbox"].values()), ledger.notes["inbox"]
    assert ledger.notes["inbox"], "the partners' feed consumer handled the events"
