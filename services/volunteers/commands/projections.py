"""What this service keeps of the partners service's partnerships (libraries and partners: shared/known_parties.py)."""

from __future__ import annotations

from services.volunteers import store
from shared.contracts import Envelope
from shared.contracts.partners.events import (
    PartnershipActivated,
    PartnershipEnded,
)
from shared.unit_of_work import Transaction


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
