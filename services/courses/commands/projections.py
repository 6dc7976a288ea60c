"""What the courses service keeps of the referrals service's events (libraries and partners: shared/known_parties)."""

from __future__ import annotations

from services.courses import store
from shared.contracts import Envelope
from shared.contracts.referrals.events import ReferralSubmitted, ReferralSubmittedV2
from shared.unit_of_work import Transaction


async def remember_referral(tx: Transaction, envelope: Envelope, event: ReferralSubmitted) -> None:
    """Enrolments from a referral are checked against it: the right participant, in the right municipality."""
    await keep_referral(tx, event)


async def remember_referral_v2(tx: Transaction, envelope: Envelope, event: ReferralSubmittedV2) -> None:
    """A referral in either direction (a library's referral to a partner's course comes as v2 only)."""
    await keep_referral(tx, event)


async def keep_referral(tx: Transaction, event: ReferralSubmitted | ReferralSubmittedV2) -> None:
    """Its municipality, its participant and its parties (its library and partners), who alone enrol it."""
    await store.upsert(
        tx.session,
        store.known_referrals,
        ["id"],
        id=event.referral_id,
        municipality=event.municipality,
        library=event.library,
        participant_pseudonym=event.participant_pseudonym,
        referring_partner_id=event.referring_partner_id,
        receiving_partner_id=event.receiving_partner_id,
    )
