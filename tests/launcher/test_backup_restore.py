"""Backup and restore as an operator would: `partnernet backup` of a running platform under load, `partnernet
restore` onto fresh servers, and the restored platform holds every referral, feed entry and webhook delivery of
the backup, publishes them again, and applies nothing twice."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import nats
import pytest

from launcher.cli import settings_for_data_dir
from launcher.embedded import EmbeddedPostgres, free_port
from launcher.platform import Platform
from services.partners.domain.feeds import FEED_STREAM, feed_durable
from tests.faults.ledger import Ledger, feed_copies, settle_deliveries, stored_referrals, submitted_events
from tests.faults.stack import FaultTenant, register_tenant
from tests.serving import on_this_machine, serving
from tests.waiting import eventually, stream_messages

BIN = Path(sys.executable).parent
PASSPHRASE = "correct horse battery staple"


@dataclass
class Endpoint:
    """The partner's webhook endpoint: takes every delivery and remembers, per phase, which event came."""

    base_url: str = ""
    phase: str = "original"
    received: dict[str, Counter[str]] = field(default_factory=dict)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.received.setdefault(self.phase, Counter())[json.loads(body)["id"]] += 1
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})


@contextlib.asynccontextmanager
async def endpoint() -> AsyncIterator[Endpoint]:
    app = Endpoint()
    config = on_this_machine(app)
    async with serving(config):
        app.base_url = f"http://127.0.0.1:{config.port}"
        yield app


def partnernet(data_dir: Path, *argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "partnernet"), "--data-dir", str(data_dir), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass
class Snapshot:
    """What the restored database holds before anything runs on it: the backup's instant."""

    referrals: set[str]
    feed_events: set[str]  # event ids in the partners' feed
    deliveries: dict[str, str]  # event id -> status


async def read_snapshot(database_url: str) -> Snapshot:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        referrals = {str(r["id"]) for r in await conn.fetch("SELECT id FROM referrals.referrals")}
        feed = {str(r["event_id"]) for r in await conn.fetch("SELECT event_id FROM partners.feed_entries")}
        rows = await conn.fetch("SELECT event_id, status FROM partners.deliveries")
        marked_sent = await conn.fetchval("SELECT count(*) FROM referrals.outbox WHERE sent_at IS NOT NULL")
        assert marked_sent == 0, "the restore marks every event to be published again"
    finally:
        await conn.close()
    return Snapshot(referrals, feed, {str(r["event_id"]): r["status"] for r in rows})


async def deliveries_now(database_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        rows = await conn.fetch("SELECT event_id, status FROM partners.deliveries")
    finally:
        await conn.close()
    return {str(r["event_id"]): r["status"] for r in rows}


async def feed_stream_copies(nats_url: str, partner_id: str) -> Counter[str]:
    """event id -> copies on the partner's NATS feed subject (what a partner reading over NATS gets)."""
    found = await stream_messages(nats_url, FEED_STREAM, f"feeds.{partner_id}")
    return Counter(json.loads(msg.data)["event_id"] for msg in found)


async def has_feed_consumer(nats_url: str, partner_id: str) -> bool:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().consumer_info(FEED_STREAM, feed_durable(uuid.UUID(partner_id)))
        return True
    except nats.js.errors.NotFoundError:
        return False
    finally:
        await nc.close()


async def feed_caught_up(database_url: str) -> bool:
    events, feed = await submitted_events(database_url), await feed_copies(database_url)
    return bool(events) and all(feed[event] for event in events.values())


async def load(tenant: FaultTenant, accepted: list[str], stop: asyncio.Event) -> None:
    """Referrals submitted one after another until told to stop (two of these run at once)."""
    async with tenant.client(timeout=30) as api:
        while not stop.is_set():
            response = await api.post("/api/v1/referrals", json=tenant.referral())
            if response.status_code == 201:
                accepted.append(response.json()["id"])


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_a_backup_under_load_restored_on_fresh_servers_holds_everything_and_applies_nothing_twice(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}  # embedded servers
    env |= {"PARTNERNET_RATE_LIMIT": "1000000", "PARTNERNET_WEBHOOK_RETRY_BASE": "1"}
    env |= {"PARTNERNET_WEBHOOK_ALLOWED_TARGETS": "127.0.0.1,localhost"}
    original_dir, restored_dir, backup_dir = tmp_path / "original", tmp_path / "restored", tmp_path / "backup"
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text(PASSPHRASE)

    async with endpoint() as hooks:
        # --- a running platform with a partner that takes webhooks and reads its feed over NATS, under load
        original = Platform(data_dir=original_dir, port=free_port(), environ=env)
        await asyncio.to_thread(original.__enter__)
        try:
            tenant = await register_tenant(original.base_url, settings_for_data_dir(original_dir))
            # The referrals of the tenant's registration in the feed first: deliveries are made for entries
            # written after the webhook, so which entries have one is then certain.
            await eventually(
                lambda: feed_caught_up(original.settings.database_url), timeout=120, what="the feed to catch up"
            )
            before_webhook = set((await feed_copies(original.settings.database_url)).keys())
            async with tenant.client() as api:
                hook = {"url": f"{hooks.base_url}/hooks", "event_types": ["referral.submitted"]}
                assert (await api.post(f"/api/v1/partners/{tenant.partner_id}/webhooks", json=hook)).status_code == 201
                credentials = await api.post(f"/api/v1/partners/{tenant.partner_id}/feed/nats-credentials")
                assert credentials.status_code == 201, credentials.text
            accepted: list[str] = []
            stop = asyncio.Event()
            submitting = [asyncio.create_task(load(tenant, accepted, stop)) for _ in range(2)]
            await eventually(lambda: asyncio.sleep(0.2, len(accepted) >= 10), timeout=120, what="load")
            before_backup = set(accepted)
            backed_up = await asyncio.to_thread(
                partnernet, original_dir, "backup", str(backup_dir), "--passphrase-file", str(passphrase_file), env=env
            )
            during_backup = len(accepted) - len(before_backup)
            count_after = len(accepted) + 5
            await eventually(lambda: asyncio.sleep(0.2, len(accepted) >= count_after), timeout=120, what="more load")
            stop.set()
            await asyncio.gather(*submitting)
            stored_in_original = await stored_referrals(original.settings.database_url)
        finally:
            await asyncio.to_thread(original.stop)
        assert backed_up.returncode == 0, backed_up.stderr
        print(backed_up.stdout, f"accepted before the backup {len(before_backup)}, during it {during_backup}")
        manifest = json.loads((backup_dir / "manifest.json").read_text())
        assert PASSPHRASE not in (backup_dir / "secrets.sealed").read_text()
        assert not any(
            (original_dir / "secrets" / name).read_text() in (backup_dir / "secrets.sealed").read_text()
            for name in manifest["secrets"]
        ), "the secrets are sealed, not written out"

        # --- restore onto fresh servers: a new data directory, its own embedded PostgreSQL and NATS
        wrong = tmp_path / "wrong"
        wrong.write_text("not the passphrase at all")
        refused = await asyncio.to_thread(
            partnernet, restored_dir, "restore", str(backup_dir), "--passphrase-file", str(wrong), env=env
        )
        assert refused.returncode == 1 and "the passphrase does not open" in refused.stderr, refused.stderr
        restored = await asyncio.to_thread(
            partnernet, restored_dir, "restore", str(backup_dir), "--passphrase-file", str(passphrase_file), env=env
        )
        assert restored.returncode == 0, restored.stderr
        print(restored.stdout)
        for name in manifest["secrets"]:
            assert (restored_dir / "secrets" / name).read_text() == (original_dir / "secrets" / name).read_text()

        with EmbeddedPostgres(restored_dir / "postgres") as postgres:
            snapshot = await read_snapshot(postgres.url_for("partnernet"))
        # Everything accepted before the backup began is in it; what came during it, as far as the snapshot saw.
        assert before_backup <= snapshot.referrals <= stored_in_original
        assert during_backup > 0 and len(snapshot.referrals) < len(stored_in_original), "the load went on"
        assert len(snapshot.referrals) == manifest["tables"]["referrals.referrals"]
        again = await asyncio.to_thread(
            partnernet, restored_dir, "restore", str(backup_dir), "--passphrase-file", str(passphrase_file), env=env
        )
        assert again.returncode == 1 and "a restore goes to a fresh database" in again.stderr, again.stderr

        # --- the restored platform: fresh NATS, the relays publish again, the consumers skip what they had
        hooks.phase = "restored"
        platform = Platform(data_dir=restored_dir, port=free_port(), environ=env)
        await asyncio.to_thread(platform.__enter__)
        try:
            settings = settings_for_data_dir(restored_dir)
            ledger = Ledger("backup under load, restored on fresh servers")
            ledger.accepted = ledger.stored = len(snapshot.referrals)
            await settle_deliveries(ledger, settings.database_url, settings.nats_url, snapshot.referrals, timeout=180)
            ledger.report()

            seen: dict[str, str] = {}

            async def every_delivery_made() -> dict[str, str] | None:
                seen.update(await deliveries_now(settings.database_url))
                made = set(seen) >= snapshot.feed_events - before_webhook
                return seen if made and all(status == "delivered" for status in seen.values()) else None

            try:
                deliveries = await eventually(every_delivery_made, timeout=180, what="every webhook delivery made")
            except AssertionError as exc:
                missing = len(snapshot.feed_events - before_webhook - set(seen))
                raise AssertionError(f"{exc}: {Counter(seen.values())}, {missing} missing") from None
            on_nats = await feed_stream_copies(settings.nats_url, tenant.partner_id)
            await eventually(
                lambda: has_feed_consumer(settings.nats_url, tenant.partner_id),
                timeout=180,
                what="the partner's durable feed consumer made again",
            )
            # The participant's personal data opens with the restored key; the token of the original works.
            restored_tenant = dataclasses.replace(tenant, base_url=platform.base_url)
            async with restored_tenant.client() as api:  # the referrer, who sees the person at every step
                some = sorted(snapshot.referrals)[0]
                read = await api.get(f"/api/v1/referrals/{some}")
            assert read.status_code == 200, read.text
            assert read.json()["participant"]["name"], read.json()
            # The partner reads its whole feed over HTTP, each entry once (restored rows are settled, not hidden).
            async with restored_tenant.client() as api:
                on_http: Counter[str] = Counter()
                after = 0
                while page := (
                    await api.get(f"/api/v1/partners/{tenant.partner_id}/feed?after={after}&limit=200")
                ).json():
                    on_http.update(str(item["event_id"]) for item in page["items"])
                    if not page["items"]:
                        break
                    after = page["next_after"]
        finally:
            await asyncio.to_thread(platform.stop)

    assert ledger.lost == 0 and ledger.duplicates == 0, ledger.report()
    # Every feed entry of the backup is on the new NATS feed once, and every entry is delivered once more
    # only where the backup had not delivered it yet; what it had delivered is not sent again.
    assert snapshot.feed_events <= set(on_nats) and max(on_nats.values()) == 1, on_nats
    assert snapshot.feed_events <= set(on_http) and max(on_http.values()) == 1, on_http
    delivered_before = {event for event, status in snapshot.deliveries.items() if status == "delivered"}
    sent_again = hooks.received.get("restored", Counter())
    assert set(sent_again) == set(deliveries) - delivered_before, (sent_again, delivered_before)
    assert all(copies == 1 for copies in sent_again.values()), sent_again
