"""The outbox keeps events through a broker outage: the change commits, the event follows once NATS is back."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import msgspec
import nats
import sqlalchemy as sa
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.partners import commands as partner_commands
from services.partners import queries as partner_queries
from services.partners.app import build as build_partners
from services.referrals import commands as referral_commands
from services.referrals.app import build as build_referrals
from services.referrals.store import ParticipantVault
from shared.contracts.partners import GetFeed, PartnerKind, RegisterLibrary, RegisterMunicipality, RegisterPartner
from shared.contracts.referrals import (
    Consent,
    ContactChannel,
    ContactPerson,
    Need,
    Participant,
    SkillArea,
    SubmitReferral,
)
from shared.embedded import EmbeddedNats
from shared.messaging import event_stream_name
from shared.outbox import outbox
from shared.tenancy import SYSTEM, Actor, Role
from tests.conftest import eventually, make_settings, telemetry_for
from tests.servers import create_database, drop_database


def a_referral(library: str, partner_id: UUID) -> SubmitReferral:
    return SubmitReferral(
        library=library,
        referring_partner_id=partner_id,
        contact_person=ContactPerson(name="Jan de Consulent"),
        participant=Participant(name="Pieter Jansen", birth_date=date(1970, 5, 1)),
        needs=[Need(area=SkillArea.DIGITAL)],
        reason="Kan zijn DigiD niet gebruiken",
        preferred_channel=ContactChannel.PHONE,
        consent=Consent(
            given_at=datetime(2026, 1, 1, tzinfo=UTC),
            given_to="Sociaal Team",
            purpose="doorverwijzing",
            valid_until=date(2099, 1, 1),
        ),
    )


async def test_referral_accepted_while_nats_is_down_is_delivered_once_after(
    tmp_path: Path, postgres_url: str, spans: InMemorySpanExporter
) -> None:
    broker_server = EmbeddedNats(tmp_path / "nats")  # our own, so stopping it harms no other test
    broker_server.start()
    database_url = await create_database(postgres_url)
    settings = make_settings(broker_server.url, database_url, tmp_path / "data")
    partners = build_partners(settings, telemetry=telemetry_for("partners", spans))
    referrals = build_referrals(settings, telemetry=telemetry_for("referrals", spans))
    try:
        await partners.start()
        await referrals.start()
        work = partners.unit_of_work
        await partner_commands.register_municipality(work, SYSTEM, RegisterMunicipality(slug="storing", name="Storing"))
        await partner_commands.register_library(
            work, SYSTEM, RegisterLibrary(slug="bieb-storing", municipality="storing", name="Bieb")
        )
        partner = await partner_commands.register_partner(
            work, SYSTEM, RegisterPartner(name="Sociaal Team", kind=PartnerKind.REFERRER, municipality="storing")
        )
        partner_actor = Actor(subject="t", role=Role.PARTNER, municipality="storing", partner=str(partner.id))
        vault = ParticipantVault(settings.encryption_key, settings.pseudonym_key)
        submit = referral_commands.submit_referral

        async def referrals_know_the_partner() -> bool:
            try:
                await submit(referrals.unit_of_work, vault, partner_actor, a_referral("bieb-storing", partner.id))
                return True
            except Exception:
                return False

        await eventually(referrals_know_the_partner, what="the referrals service to learn the partner")

        async def outbox_drained() -> bool:
            async with referrals.engine.connect() as conn:
                return (await conn.execute(sa.select(sa.func.count()).where(outbox.c.sent_at.is_(None)))).scalar() == 0

        await eventually(outbox_drained, what="the relay to send what was written before the outage")
        broker_server.stop()
        referral = await submit(referrals.unit_of_work, vault, partner_actor, a_referral("bieb-storing", partner.id))
        await asyncio.sleep(1.5)  # the relay tries, and fails, while the broker is away

        async with referrals.engine.connect() as conn:
            pending = (
                await conn.execute(sa.select(outbox.c.event_id, outbox.c.attempts).where(outbox.c.sent_at.is_(None)))
            ).all()
        assert len(pending) == 1, "the referral's event waits in the outbox"
        event_id = pending[0].event_id

        broker_server.start()

        async def referral_in_feed() -> list[object]:
            page = await partner_queries.get_feed(partners.unit_of_work, partner_actor, GetFeed(partner_id=partner.id))
            return [e for e in page.items if e.data["referral_id"] == str(referral.id)]

        entries = await eventually(referral_in_feed, timeout=30, what="the event to reach the feed after the outage")
        assert len(entries) == 1
        assert entries[0].event_id == event_id

        async with referrals.engine.connect() as conn:
            sent_at = (await conn.execute(sa.select(outbox.c.sent_at).where(outbox.c.event_id == event_id))).scalar()
        assert sent_at is not None

        # Once in the stream, even if the relay's retries raced the reconnect.
        copies = await count_in_stream(broker_server.url, event_stream_name("referrals"), event_id)
        assert copies == 1
    finally:
        await referrals.stop()
        await partners.stop()
        broker_server.stop()
        await drop_database(postgres_url, database_url)


async def count_in_stream(nats_url: str, stream: str, event_id: UUID) -> int:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        found = 0
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(stream, sequence)
            if msgspec.json.decode(msg.data or b"{}").get("id") == str(event_id):
                found += 1
        return found
    finally:
        await nc.close()
