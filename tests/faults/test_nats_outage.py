"""NATS stops while partners keep submitting through the gateway: every request succeeds or is a clear 503/504,
and once NATS is back every accepted referral reaches every consumer exactly once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
from tests.waiting import eventually

CLEAR_REFUSALS = {503: "urn:partnernet:problem:service-unavailable", 504: "urn:partnernet:problem:service-timeout"}


@dataclass
class Outage:
    """When NATS came back (time.monotonic()), once it has, and whether a submission sent after that was accepted."""

    back_at: float | None = None
    recovered: bool = False


async def submit_steadily(
    tenant: FaultTenant,
    ledger: Ledger,
    accepted: set[str],
    unclear: list[str],
    outage: Outage,
    give_up_at: float,
    workers: int = 3,
) -> None:
    """Submissions from `workers` clients until one submitted after NATS came back is accepted (on a loaded machine
    NATS's return takes the clients seconds to see), or until `give_up_at`."""

    def going_on() -> bool:
        return not outage.recovered and time.monotonic() < give_up_at

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
                    if outage.back_at is not None and sent_at >= outage.back_at:
                        outage.recovered = True
                elif (
                    response.status_code in CLEAR_REFUSALS
                    and response.headers["content-type"].startswith(PROBLEM)
                    and response.json()["type"] == CLEAR_REFUSALS[response.status_code]
                ):
                    ledger.refused += 1
                else:
                    unclear.append(f"{response.status_code} {response.text[:200]}")
                await asyncio.sleep(0.02)  # a steady client's pace, not a wait for anything

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
    ledger = Ledger("nats stopped during a stream of submissions, until refusals were seen and for 2 s at least")
    accepted: set[str] = set()
    unclear: list[str] = []
    try:
        async with gateway(settings) as base_url:
            tenant = await register_tenant(base_url, settings)
            before = await stored_referrals(database_url)
            outage = Outage()
            stream = asyncio.create_task(
                submit_steadily(tenant, ledger, accepted, unclear, outage, give_up_at=time.monotonic() + 90)
            )

            def submitting(what: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
                async def probe() -> bool:
                    if stream.done():  # the submissions stopped early: say why rather than wait
                        stream.result()
                        raise AssertionError("the submissions ended before the outage did")
                    return what()

                return probe

            # NATS goes once the submissions flow (some accepted), and comes back once the outage was felt (clear
            # refusals) and has lasted 2 s: time the services' clients need to notice the loss and reconnect.
            await eventually(submitting(lambda: ledger.accepted >= 3), timeout=30, what="submissions accepted first")
            await asyncio.to_thread(broker.stop)
            stopped_at = time.monotonic()
            await eventually(submitting(lambda: ledger.refused > 0), timeout=30, what="a clear refusal without NATS")
            await asyncio.sleep(max(0.0, stopped_at + 2.0 - time.monotonic()))
            await asyncio.to_thread(broker.start)
            outage.back_at = time.monotonic()
            ledger.notes["outage_s"] = round(outage.back_at - stopped_at, 1)
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
    assert outage.recovered, "submissions are accepted again once NATS is back"
    assert accepted <= stored, "a 201 means the referral is stored"
    assert ledger.delivered == ledger.stored >= ledger.accepted
    assert ledger.lost == 0
    assert ledger.duplicates == 0
    assert all(count == ledger.stored for count in ledger.notes["inbox"].values()), ledger.notes["inbox"]
    assert ledger.notes["inbox"], "the partners' feed consumer handled the events"
