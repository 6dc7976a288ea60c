"""What this service keeps of the partners service's events: libraries, partners and partnerships."""

from __future__ import annotations

from services.volunteers import store
from shared.contracts import Envelope
from shared.contracts.partners.events import (
    LibraryRegistered,
    PartnerEnded,
    PartnerReactivated,
    PartnerRegistered,
    PartnershipActivated,
    PartnershipEnded,
    PartnerSuspended,
)
from shared.unit_of_work import Transaction


async def remember_library(tx: Transaction, envelope: Envelope, event: LibraryRegistered) -> None:
    await store.upsert(
        tx.session,
        store.known_libraries,
        {"slug": event.library, "municipality": event.municipality},
        key=["slug"],
        update=["municipality"],
    )


async def remember_partner(tx: Transaction, envelope: Envelope, event: PartnerRegistered) -> None:
    # The status is left alone: a suspension handled by its own consumer may have arrived first.
    await store.upsert(
        tx.session,
        store.known_partners,
        {"id": event.partner_id, "municipality": event.municipality, "name": event.name, "kind": event.kind.value},
        key=["id"],
        update=["municipality", "name", "kind"],
    )


async def _partner_status(tx: Transaction, partner_id: object, status: str) -> None:
    await store.upsert(
        tx.session, store.known_partners, {"id": partner_id, "status": status}, key=["id"], update=["status"]
    )


async def partner_suspended(tx: Transaction, envelope: Envelope, event: PartnerSuspended) -> None:
    await _partner_status(tx, event.partner_id, "suspended")


async def partner_reactivated(tx: Transaction, envelope: Envelope, event: PartnerReactivated) -> None:
    await _partner_status(tx, event.partner_id, "active")


async def partner_ended(tx: Transaction, envelope: Envelope, event: PartnerEnded) -> None:
    await _partner_status(tx, event.partner_id, "ended")


async def partnership_activated(tx: Transaction, envelope: Envelope, event: PartnershipActivated) -> None:
    await store.upsert(
        tx.session,
        store.known_partnerships,
        {
            "id": event.partnership_id,
            "partner_id": event.partner_id,
            "library": event.library,
            "municipality": event.municipality,
            "roles": list(event.roles),
            "activated": True,
        },
        key=["id"],
        update=["roles", "activated"],
    )


async def partnership_ended(tx: Transaction, envelope: Envelope, event: PartnershipEnded) -> None:
    await store.upsert(
        tx.session,
        store.known_partnerships,
        {
            "id": event.partnership_id,
            "partner_id": event.partner_id,
            "library": event.library,
            "municipality": event.municipality,
            "ended": True,
        },
        key=["id"],
        update=["ended"],
    )
