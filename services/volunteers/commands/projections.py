"""What this service keeps of other services' events: the partners service's partnerships (libraries and partners:
shared/known_parties.py), and the referrals of its libraries (for language buddies)."""

from __future__ import annotations

import msgspec

from services.volunteers import store
from services.volunteers.domain import buddies
from services.volunteers.store import partnerships, referrals
from shared.contracts import Envelope
from shared.contracts.partners.events import (
    PartnershipActivated,
    PartnershipChanged,
    PartnershipEnded,
    PartnershipSuspended,
)
from shared.contracts.referrals.events import ReferralParties
from shared.unit_of_work import Transaction


async def partnership_activated(tx: Transaction, envelope: Envelope, event: PartnershipActivated) -> None:
    await partnerships.remember_terms(
        tx.session,
        partnership_id=event.partnership_id,
        partner_id=event.partner_id,
        library=event.library,
        municipality=event.municipality,
        roles=list(event.roles),
        partner_contributions=event.partner_contributions,
        version=event.partnership_version,
        activated=True,
    )


async def partnership_changed(tx: Transaction, envelope: Envelope, event: PartnershipChanged) -> None:
    """New terms of a running partnership (what the partner brings in decides whether it trains volunteers)."""
    await partnerships.remember_terms(
        tx.session,
        partnership_id=event.partnership_id,
        partner_id=event.partner_id,
        library=event.library,
        municipality=event.municipality,
        roles=list(event.roles),
        partner_contributions=event.partner_contributions,
        version=event.partnership_version,
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


async def remember_referral(tx: Transaction, envelope: Envelope) -> None:
    """Any referral event (types added later too): the referral is known, and its state follows the newest event."""
    parties = msgspec.convert(envelope.data, ReferralParties)
    await referrals.remember(
        tx.session,
        referral_id=parties.referral_id,
        participant_pseudonym=parties.participant_pseudonym,
        library=parties.library,
        municipality=parties.municipality,
        referring_partner_id=parties.referring_partner_id,
        receiving_partner_id=parties.receiving_partner_id,
        status=buddies.status_of(envelope.type),
        at=envelope.time,
    )


async def partnership_suspended(tx: Transaction, envelope: Envelope, event: PartnershipSuspended) -> None:
    """Paused: the partner supplies no volunteers or interns under it until it is activated again (resumed)."""
    await store.upsert(
        tx.session,
        store.known_partnerships,
        {
            "id": event.partnership_id,
            "partner_id": event.partner_id,
            "library": event.library,
            "municipality": event.municipality,
            "activated": False,
        },
        key=["id"],
        update=["activated"],
    )
