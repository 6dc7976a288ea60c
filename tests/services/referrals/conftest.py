"""What the referrals tests share on top of the session's platform (no servers of their own).

A tenant made straight in the referrals service's projections (as the partners service's events
would), use cases on a unit of work with a clock the test controls, envelopes published on JetStream
as another service would, and the referrals stream read back as a consumer would.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import msgspec
import nats
import nats.errors
import pytest
import sqlalchemy as sa

from services.referrals import store
from services.referrals.commands import submission
from services.referrals.store.personal_data import ParticipantVault
from shared.clock import FixedClock
from shared.contracts import Envelope, EventData, nats_subject
from shared.contracts.referrals.api.referrals import (
    Consent,
    ConsentParty,
    ContactChannel,
    ContactPerson,
    Participant,
    ReferralView,
    SubmitReferral,
)
from shared.contracts.referrals.events import Need, SharedData
from shared.contracts.vocabulary import SkillArea
from shared.ids import new_id
from shared.messaging import event_stream_name
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant, register_tenant
from tests.waiting import stream_messages

PERSON = Participant(name="Fatima El Amrani", birth_date=date(1984, 3, 2), phone="0612345678")
SECRETS = ("Fatima", "El Amrani", "0612345678", "1984-03-02")  # what must never leave the vault


@dataclass
class KnownTenant:
    """A municipality as the referrals service knows it: two libraries, two partners, and their actors."""

    municipality: str
    library_a: str
    library_b: str
    partner_a: UUID
    partner_b: UUID

    @property
    def staff_a(self) -> Actor:
        return Actor(subject="staff-a", role=Role.STAFF, municipality=self.municipality, library=self.library_a)

    @property
    def staff_b(self) -> Actor:
        return Actor(subject="staff-b", role=Role.STAFF, municipality=self.municipality, library=self.library_b)

    @property
    def partner_a_actor(self) -> Actor:
        return Actor(
            subject="partner-a", role=Role.PARTNER, municipality=self.municipality, partner=str(self.partner_a)
        )

    @property
    def partner_b_actor(self) -> Actor:
        return Actor(
            subject="partner-b", role=Role.PARTNER, municipality=self.municipality, partner=str(self.partner_b)
        )


# Registering a tenant takes a series of requests and waiting for the projections; doing several side by
# side and handing them out one per test keeps these tests quick. Keyed by platform: one per session.
POOL_BATCH = 8
_pools: dict[int, list[Tenant]] = {}


async def pooled_tenant(platform: RunningPlatform) -> Tenant:
    """A fresh tenant of its own for the calling test (registered through the gateway, in batches)."""
    pool = _pools.setdefault(id(platform), [])
    if not pool:
        pool.extend(await asyncio.gather(*(register_tenant(platform) for _ in range(POOL_BATCH))))
    return pool.pop()


@pytest.fixture
async def tenant(platform: RunningPlatform) -> Tenant:
    return await pooled_tenant(platform)


@pytest.fixture
async def known(tenant: Tenant) -> KnownTenant:
    """The test's tenant as the referrals service knows it, with actors for the use cases."""
    return KnownTenant(
        tenant.municipality, tenant.library_a, tenant.library_b, UUID(tenant.partner_a), UUID(tenant.partner_b)
    )


def vault_of(platform: RunningPlatform) -> ParticipantVault:
    return ParticipantVault(platform.settings.encryption_key, platform.settings.pseudonym_key)


def work_at(platform: RunningPlatform, when: datetime) -> tuple[UnitOfWork, FixedClock]:
    clock = FixedClock(when)
    runtime = platform.services["referrals"]
    return UnitOfWork(runtime.sessions, clock, runtime.reads), clock


def now() -> datetime:
    # Near the wall clock, so the platform's own periodic job (on the system clock) leaves these alone.
    return datetime.now(UTC).replace(microsecond=0)


def submit_command(library: str, **overrides: Any) -> SubmitReferral:
    fields: dict[str, Any] = {
        "library": library,
        "contact_person": ContactPerson(name="Jan de Consulent", email="jan@werkplein.example"),
        "participant": PERSON,
        "needs": [Need(area=SkillArea.LANGUAGE, level="A2"), Need(area=SkillArea.DIGITAL)],
        "reason": "Wil solliciteren; lezen gaat nog moeizaam",
        "preferred_channel": ContactChannel.PHONE,
        "consent": Consent(
            given_at=datetime(2026, 1, 10, 10, tzinfo=UTC),
            given_to=[
                ConsentParty(partner_id=overrides["receiving_partner_id"])
                if overrides.get("receiving_partner_id")
                else ConsentParty(library=library)
            ],
            shares=list(SharedData),
            purpose="warme doorverwijzing",
            valid_until=date(2099, 1, 1),
        ),
    }
    fields.update(overrides)
    return SubmitReferral(**fields)


async def submit(platform: RunningPlatform, actor: Actor, command: SubmitReferral, at: datetime) -> ReferralView:
    work, _ = work_at(platform, at)
    return await submission.submit_referral(work, vault_of(platform), actor, command)


async def referral_row(platform: RunningPlatform, referral_id: UUID) -> sa.Row:
    async with platform.services["referrals"].sessions() as session:
        row = await store.find_referral(session, referral_id)
    assert row is not None
    return row


async def history_steps(platform: RunningPlatform, referral_id: UUID) -> list[str | None]:
    async with platform.services["referrals"].sessions() as session:
        return [row.step for row in await store.history_of(session, referral_id)]


# --- JetStream, as the other services see it ----------------------------------------------------


def envelope_of(data: EventData, *, municipality: str, library: str | None, time: datetime | None = None) -> Envelope:
    return Envelope(
        id=new_id(),
        source=f"/partnernet/{data.service}",
        type=data.qualified_type(),
        time=time or datetime.now(UTC),
        subject=f"{municipality}/{library or '-'}",
        data=msgspec.to_builtins(data),
        municipality=municipality,
        library=library,
    )


async def publish_event(
    nats_url: str, envelope: Envelope, service: str | None = None, *, msg_id: str | None = None
) -> None:
    """Publish an envelope exactly as another service's outbox relay would (`service`: from its source)."""
    service = service or envelope.source.rsplit("/", 1)[-1]
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(
            nats_subject(service, envelope.type, envelope.municipality, envelope.library),
            msgspec.json.encode(envelope),
            headers={"Nats-Msg-Id": msg_id or str(envelope.id)},
            stream=event_stream_name(service),
        )
    finally:
        await nc.close()


async def referral_events(nats_url: str, municipality: str, service: str = "referrals") -> list[tuple[str, bytes]]:
    """Every referrals event (or another service's) of one municipality in the stream, as (subject, raw message)."""
    subject = f"events.{service}.*.*.*.{municipality}.*"
    return [(msg.subject, msg.data) for msg in await stream_messages(nats_url, event_stream_name(service), subject)]


async def event_types(nats_url: str, municipality: str, referral_id: UUID) -> list[str]:
    types = []
    for _, raw in await referral_events(nats_url, municipality):
        envelope = msgspec.json.decode(raw, type=Envelope)
        if envelope.data.get("referral_id") == str(referral_id):
            types.append(envelope.type.removeprefix("nl.partnernet."))
    return types


async def consumer_idle(nats_url: str, stream_service: str, durable: str) -> bool:
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().consumer_info(event_stream_name(stream_service), durable)
        return info.num_pending == 0 and info.num_ack_pending == 0
    finally:
        await nc.close()
