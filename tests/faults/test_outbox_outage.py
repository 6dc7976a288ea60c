"""The outbox keeps events through a broker outage: the change commits, the event follows once NATS is back."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from launcher.embedded import EmbeddedNats
from services.referrals.commands.submission import submit_referral
from services.referrals.store.personal_data import ParticipantVault
from shared.contracts.referrals.api.referrals import (
    Consent,
    ConsentParty,
    ContactChannel,
    GivenContactPerson,
    GivenParticipant,
    SubmitReferral,
)
from shared.contracts.referrals.events import Need, SharedData
from shared.contracts.vocabulary import SkillArea
from shared.tenancy import Actor, Role
from tests.faults.ledger import Ledger, feed_copies, settle_deliveries, stream_copies
from tests.faults.stack import (
    FaultTenant,
    fault_settings,
    gateway,
    plain,
    register_tenant,
    start_services,
    stop_services,
)
from tests.servers import create_database, drop_database
from tests.waiting import eventually


def a_referral(tenant: FaultTenant) -> SubmitReferral:
    return SubmitReferral(
        library=tenant.library,
        referring_partner_id=UUID(tenant.partner_id),
        contact_person=GivenContactPerson(name="Jan de Consulent"),
        participant=GivenParticipant(name="Pieter Jansen", birth_date=date(1970, 5, 1)),
        needs=[Need(area=SkillArea.DIGITAL)],
        reason="Kan zijn DigiD niet gebruiken",
        preferred_channel=ContactChannel.PHONE,
        consent=Consent(
            given_at=datetime(2026, 1, 1, tzinfo=UTC),
            given_to=[ConsentParty(library=tenant.library)],
            shares=list(SharedData),
            purpose="doorverwijzing",
            valid_until=date(2099, 1, 1),
        ),
    )


async def outbox_rows(database_url: str, *, unsent_only: bool) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain(database_url))
    try:
        where = "WHERE sent_at IS NULL" if unsent_only else ""
        return await conn.fetch(f"SELECT event_id, attempts, sent_at FROM referrals.outbox {where}")
    finally:
        await conn.close()


async def test_referral_accepted_while_nats_is_down_is_delivered_once_after(tmp_path: Path, postgres_url: str) -> None:
    broker = EmbeddedNats(tmp_path / "nats")  # our own, so stopping it harms no other test
    broker.start()
    database_url = await create_database(postgres_url)
    settings = fault_settings(broker.url, database_url, tmp_path / "data")
    services = await start_services(settings, ["partners", "referrals"])
    ledger = Ledger("a referral committed while NATS is down")
    try:
        async with gateway(settings) as base_url:
            tenant = await register_tenant(base_url, settings)

        async def outbox_drained() -> bool:
            return not await outbox_rows(database_url, unsent_only=True)

        await eventually(outbox_drained, what="the relay to send what was written before the outage")
        await asyncio.to_thread(broker.stop)
        # No request can reach the service without NATS; the use case runs as its handler would.
        actor = Actor(subject="t", role=Role.PARTNER, municipality=tenant.municipality, partner=tenant.partner_id)
        vault = ParticipantVault(settings.encryption_key, settings.pseudonym_key)
        referral = await submit_referral(services["referrals"].unit_of_work, vault, actor, a_referral(tenant))
        ledger.sent = ledger.accepted = ledger.stored = 1

        async def tried_and_failed() -> list[asyncpg.Record]:
            return [row for row in await outbox_rows(database_url, unsent_only=True) if row["attempts"] >= 1]

        # The relay tries, and fails, while the broker is away: the row records the try and its error.
        (pending,) = await eventually(tried_and_failed, what="the relay to try to publish and fail")
        assert len(await outbox_rows(database_url, unsent_only=True)) == 1, "the referral's event waits in the outbox"
        event_id = str(pending["event_id"])

        await asyncio.to_thread(broker.start)
        await settle_deliveries(ledger, database_url, broker.url, {str(referral.id)}, timeout=30)

        # The relay marks the row sent after JetStream's ack, and the consumer may write the feed entry before that
        # mark is committed (a fresh-clone run read the row in between): wait for the mark, as for the delivery.
        async def marked_sent() -> dict[str, Any] | None:
            rows = {str(r["event_id"]): r["sent_at"] for r in await outbox_rows(database_url, unsent_only=False)}
            return rows if rows.get(event_id) is not None else None

        with contextlib.suppress(AssertionError):
            await eventually(marked_sent, timeout=30, what="the relay to mark the event sent")
        sent = {str(r["event_id"]): r["sent_at"] for r in await outbox_rows(database_url, unsent_only=False)}
        in_stream = (await stream_copies(broker.url))[0][event_id]
        in_feed = (await feed_copies(database_url))[event_id]
    finally:
        ledger.report()
        await stop_services(services.values())
        broker.stop()
        await drop_database(postgres_url, database_url)

    assert sent[event_id] is not None
    assert in_stream == 1, "once in the stream, even if the relay's retries raced the reconnect"
    assert in_feed == 1
    assert ledger.delivered == 1 and ledger.lost == 0 and ledger.duplicates == 0
