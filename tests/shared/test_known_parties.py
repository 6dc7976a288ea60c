"""The one projection of libraries, partners and partner status that referrals, courses and volunteers keep
(shared/known_parties.py), fed by events published for real on JetStream and read from each service's schema."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from functools import partial
from uuid import UUID

import msgspec
import pytest
import sqlalchemy as sa

from shared.contracts.partners.events import (
    LibraryRegistered,
    PartnerKind,
    PartnerReactivated,
    PartnerRegistered,
    PartnershipActivated,
    PartnershipChanged,
    PartnershipSuspended,
    PartnerSuspended,
)
from shared.ids import new_id
from shared.known_parties import KnownParties, KnownPartnerships
from tests.fixtures.platform import RunningPlatform
from tests.services.referrals.conftest import consumer_idle, envelope_of, publish_event
from tests.waiting import eventually

KEEPERS = ("referrals", "courses", "volunteers")
TERMS_KEEPERS = ("courses", "volunteers")  # partnerships with their terms


def known_of(service: str) -> KnownParties:
    known: KnownParties = importlib.import_module(f"services.{service}.store").known
    return known


async def partner_row(platform: RunningPlatform, service: str, partner_id: UUID) -> tuple[str, str, str | None] | None:
    async with platform.services[service].sessions() as session:
        row = await known_of(service).find_partner(session, partner_id)
    return None if row is None else (row.status, row.name, row.kind)


async def idle(platform: RunningPlatform, durable: str) -> bool:
    url = platform.settings.nats_url
    return all([await consumer_idle(url, "partners", f"{service}-{durable}") for service in KEEPERS])


async def test_a_status_before_the_registration_and_a_stale_status_after_it_end_the_same_everywhere(
    platform: RunningPlatform,
) -> None:
    url, municipality, partner_id = platform.settings.nats_url, "kenniskamp", new_id()
    suspended_at = datetime.now(UTC)

    # The suspension is handled first (its own consumer): the partner is known by status only.
    suspension = PartnerSuspended(partner_id=partner_id, municipality=municipality, reason="review")
    await publish_event(url, envelope_of(suspension, municipality=municipality, library=None, time=suspended_at))
    for service in KEEPERS:
        assert await eventually(partial(partner_row, platform, service, partner_id), what=f"{service}'s status")
        assert await partner_row(platform, service, partner_id) == ("suspended", "", None)

    # The registration fills in name and kind and leaves the status alone.
    registered = PartnerRegistered(
        partner_id=partner_id, municipality=municipality, name="Taalhuis Kenniskamp", kind=PartnerKind.REFERRER
    )
    await publish_event(url, envelope_of(registered, municipality=municipality, library=None))
    await eventually(lambda: idle(platform, "known-partners"), what="the registration")

    # A reactivation from before the suspension, delivered late, changes nothing.
    stale = PartnerReactivated(partner_id=partner_id, municipality=municipality)
    earlier = envelope_of(stale, municipality=municipality, library=None, time=suspended_at - timedelta(minutes=1))
    await publish_event(url, earlier)
    await eventually(lambda: idle(platform, "partner-reactivated"), what="the stale reactivation")
    for service in KEEPERS:
        assert await partner_row(platform, service, partner_id) == ("suspended", "Taalhuis Kenniskamp", "referrer")

    # A later one does.
    later = envelope_of(stale, municipality=municipality, library=None, time=suspended_at + timedelta(minutes=1))
    await publish_event(url, later)
    await eventually(lambda: idle(platform, "partner-reactivated"), what="the reactivation")
    for service in KEEPERS:
        assert await partner_row(platform, service, partner_id) == ("active", "Taalhuis Kenniskamp", "referrer")


@pytest.mark.parametrize("service", KEEPERS)
async def test_a_library_is_known_with_its_municipality(platform: RunningPlatform, service: str) -> None:
    slug = f"bieb-{new_id().hex[:8]}"
    event = LibraryRegistered(library=slug, municipality="kenniskamp", name="Bibliotheek Kenniskamp")
    await publish_event(platform.settings.nats_url, envelope_of(event, municipality="kenniskamp", library=slug))

    async def municipality() -> str | None:
        async with platform.services[service].sessions() as session:
            return await known_of(service).library_municipality(session, slug)

    assert await eventually(municipality, what="the library") == "kenniskamp"


async def partnership_row(platform: RunningPlatform, service: str, partnership_id: UUID) -> tuple[object, ...] | None:
    kept: KnownPartnerships = importlib.import_module(f"services.{service}.store").partnerships
    p = kept.table
    async with platform.services[service].sessions() as session:
        statement = sa.select(p.c.activated, p.c.roles, p.c.partner_contributions).where(p.c.id == partnership_id)
        row = (await session.execute(statement)).first()
    return None if row is None else tuple(row)


async def test_a_partnership_keeps_its_newest_terms_and_its_latest_pause_whatever_arrives_last(
    platform: RunningPlatform,
) -> None:
    url, municipality, library = platform.settings.nats_url, "kenniskamp", f"bieb-{new_id().hex[:8]}"
    partnership_id, partner_id, paused_at = new_id(), new_id(), datetime.now(UTC)
    paused = PartnershipSuspended(
        partnership_id=partnership_id, partner_id=partner_id, library=library, municipality=municipality
    )
    same = msgspec.structs.asdict(paused)  # the partnership's ids in every event of it

    async def idle_everywhere(durable: str) -> bool:
        return all([await consumer_idle(url, "partners", f"{service}-{durable}") for service in TERMS_KEEPERS])

    # Version 2 of the terms (the partner now supplies volunteers too) and a pause, both handled first.
    roles = ["referrer", "volunteer_supplier"]
    changed = PartnershipChanged(
        **same, roles=roles, library_contributions=[], partner_contributions=["training"], partnership_version=2
    )
    await publish_event(url, envelope_of(changed, municipality=municipality, library=library))
    await publish_event(url, envelope_of(paused, municipality=municipality, library=library, time=paused_at))

    async def paused_with_new_terms(service: str) -> bool:
        row = await partnership_row(platform, service, partnership_id)
        return row is not None and row[:2] == (False, roles)

    for service in TERMS_KEEPERS:
        await eventually(partial(paused_with_new_terms, service), what=f"{service}'s terms and pause")
    for durable in ("partnership-changed", "partnership-suspended"):  # handled, not only the defaults of a new row
        await eventually(partial(idle_everywhere, durable), what=durable)

    # The activation of version 1, from before both, delivered late: it changes neither.
    activated = PartnershipActivated(
        **same, roles=["referrer"], library_contributions=[], partner_contributions=[], partnership_version=1
    )
    earlier = paused_at - timedelta(minutes=1)
    await publish_event(url, envelope_of(activated, municipality=municipality, library=library, time=earlier))
    await eventually(partial(idle_everywhere, "partnership-activated"), what="the late activation")
    for service in TERMS_KEEPERS:
        assert await partnership_row(platform, service, partnership_id) == (False, roles, ["training"]), service
