"""PostgreSQL restarts under running services: while it is away requests fail clearly, and afterwards the services
answer again, the relay resumes and events flow, without any service being restarted."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from launcher.embedded import EmbeddedNats, EmbeddedPostgres
from tests.faults.ledger import Ledger, settle_deliveries
from tests.faults.stack import PROBLEM, fault_settings, gateway, register_tenant, rpc, start_services, stop_services
from tests.waiting import eventually


async def test_services_reconnect_to_a_restarted_postgres_without_restarting(tmp_path: Path) -> None:
    database = EmbeddedPostgres(tmp_path / "postgres", durable=False)  # our own: stopping it harms no other test
    broker = EmbeddedNats(tmp_path / "nats")
    await asyncio.to_thread(database.start)
    broker.start()
    database_url = await asyncio.to_thread(database.ensure_database, "partnernet")
    settings = fault_settings(broker.url, database_url, tmp_path / "data")
    services = await start_services(settings, ["partners", "referrals"])
    ledger = Ledger("postgres stopped and started under running services")
    accepted: set[str] = set()
    try:
        async with gateway(settings) as base_url:
            tenant = await register_tenant(base_url, settings)
            async with tenant.client() as api:
                before = await api.post("/api/v1/referrals", json=tenant.referral())
                assert before.status_code == 201, before.text
                ledger.sent += 1
                ledger.accepted += 1
                accepted.add(before.json()["id"])
                # The read of one referral runs on the service's direct connections (shared/db.py): one is open now.
                assert (await api.get(f"/api/v1/referrals/{before.json()['id']}")).status_code == 200
                await asyncio.to_thread(database.stop)
                read_during = await api.get(f"/api/v1/referrals/{before.json()['id']}")
                during = await api.post("/api/v1/referrals", json=tenant.referral())
                ledger.sent += 1
                ledger.statuses[str(during.status_code)] += 1
                ledger.refused += during.status_code >= 500
                await asyncio.to_thread(database.start)

                async def accepted_again() -> bool:
                    response = await api.post("/api/v1/referrals", json=tenant.referral())
                    ledger.sent += 1
                    ledger.statuses[str(response.status_code)] += 1
                    if response.status_code == 201:
                        ledger.accepted += 1
                        accepted.add(response.json()["id"])
                    return response.status_code == 201

                await eventually(accepted_again, timeout=30, what="a referral to be accepted after the restart")
                read = await api.get(f"/api/v1/referrals/{before.json()['id']}")
                read_new = await api.get(f"/api/v1/referrals/{next(iter(accepted - {before.json()['id']}))}")
            ledger.stored = len(accepted)
            await settle_deliveries(ledger, database_url, broker.url, accepted, timeout=30)

            async def healthy_again() -> bool:
                health = {name: await rpc(broker.url, name, "health", {}) for name in services}
                ledger.notes["health"] = {n: (h["database"], h["relay_active"]) for n, h in health.items()}
                return all(database_ok and relay for database_ok, relay in ledger.notes["health"].values())

            # Each relay notices the lost connection (and lock) at its next wake-up, then takes the lock again.
            with contextlib.suppress(AssertionError):
                await eventually(healthy_again, timeout=20, what="every service's database and relay back")
    finally:
        ledger.report()
        await stop_services(services.values())
        broker.stop()
        await asyncio.to_thread(database.stop)

    assert during.status_code == 503 and during.headers["content-type"].startswith(PROBLEM), during.text
    assert read_during.status_code == 503 and read_during.headers["content-type"].startswith(PROBLEM), read_during.text
    assert read.status_code == 200 and read_new.status_code == 200, (read.text, read_new.text)
    assert ledger.accepted == 2 and ledger.delivered == 2 and ledger.lost == 0 and ledger.duplicates == 0
    assert all(database_ok and relay_active for database_ok, relay_active in ledger.notes["health"].values())
