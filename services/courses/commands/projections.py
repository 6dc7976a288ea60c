"""What the courses service keeps of other services' events: libraries, partners, referrals."""

from __future__ import annotations

from uuid import UUID

from services.courses import store
from shared.contracts import Envelope
from shared.contracts.partners.events import (
    LibraryRegistered,
    PartnerEnded,
    PartnerReactivated,
    PartnerRegistered,
    PartnerSuspended,
)
from shared.contracts.referrals.events import ReferralSubmitted, ReferralSubmittedV2
from shared.unit_of_work import Transaction


async def remember_library(tx: Transaction, envelope: Envelope, event: LibraryRegistered) -> None:
    await store.upsert(
        tx.session,
        store.known_libraries,
        ["slug"],
        slug=event.library,
        municipality=event.municipality,
        name=event.name,
    )


async def remember_partner(tx: Transaction, envelope: Envelope, event: PartnerRegistered) -> None:
    await store.upsert(
        tx.session,
        store.known_partners,
        ["id"],
        id=event.partner_id,
        municipality=event.municipality,
        name=event.name,
        kind=event.kind.value,
    )


async def set_partner_status(tx: Transaction, partner_id: UUID, status: str) -> None:
    kp = store.known_partners
    await tx.session.execute(kp.update().where(kp.c.id == partner_id).values(status=status))


async def partner_suspended(tx: Transaction, envelope: Envelope, event: PartnerSuspended) -> None:
    await set_partner_status(tx, event.partner_id, "suspended")


async def partner_reactivated(tx: Transaction, envelope: Envelope, event: PartnerReactivated) -> None:
    await set_partner_status(tx, event.partner_id, "active")


async def partner_ended(tx: Transaction, envelope: Envelope, event: PartnerEnded) -> None:
    await set_partner_status(tx, event.partner_id, "ended")


async def remember_referral(tx: Transaction, envelope: Envelope, event: ReferralSubmitted) -> None:
    """Enrolments from a referral are checked against it: the right participant, in the right municipality."""
    await keep_referral(tx, event.referral_id, event.municipality, event.library, event.participant_pseudonym)


async def remember_referral_v2(tx: Transaction, envelope: Envelope, event: ReferralSubmittedV2) -> None:
    """A referral in either direction (a library's referral to a partner's course comes as v2 only)."""
    await keep_referral(tx, event.referral_id, event.municipality, event.library, event.participant_pseudonym)


async def keep_referral(tx: Transaction, referral_id: UUID, municipality: str, library: str, pseudonym: str) -> None:
    await store.upsert(
        tx.session,
        store.known_referrals,
        ["id"],
        id=referral_id,
        municipality=municipality,
        library=library,
        participant_pseudonym=pseudonym,
    )
