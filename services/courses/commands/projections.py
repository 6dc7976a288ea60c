"""What the courses service keeps of the referrals service's events (libraries and partners: shared/known_parties)."""

from __future__ import annotations

import msgspec

from services.courses.store import enrolment as enrolment_store
from shared.contracts import Envelope, short_type
from shared.contracts.referrals.api.referrals import ReferralStatus
from shared.contracts.referrals.events import ReferralParties, ReferralSubmitted, ReferralSubmittedV2
from shared.unit_of_work import Transaction

# The referral events that move a referral into or out of the states an enrolment fits, and the status each leaves
# behind; the other referral events (overdue, waiting list, a participant to tell …) leave the status as it is.
STATUS_AFTER: dict[str, ReferralStatus] = {
    "referral.accepted": ReferralStatus.ACCEPTED,
    "referral.intake_planned": ReferralStatus.INTAKE_PLANNED,
    "referral.intake_held": ReferralStatus.INTAKE_HELD,
    "referral.enrolled": ReferralStatus.ENROLLED,
    "referral.declined": ReferralStatus.DECLINED,
    "referral.withdrawn": ReferralStatus.WITHDRAWN,
    "referral.completed": ReferralStatus.COMPLETED,
    "referral.no_show_recorded": ReferralStatus.NO_SHOW,
    "referral.expired": ReferralStatus.EXPIRED,
}


async def remember_referral(tx: Transaction, envelope: Envelope, event: ReferralSubmitted) -> None:
    """Enrolments from a referral are checked against it: the right participant, in the right municipality."""
    await keep_referral(tx, envelope, event, ReferralStatus.SUBMITTED)


async def remember_referral_v2(tx: Transaction, envelope: Envelope, event: ReferralSubmittedV2) -> None:
    """A referral in either direction (a library's referral to a partner's course comes as v2 only)."""
    await keep_referral(tx, envelope, event, ReferralStatus.SUBMITTED)


async def referral_moved(tx: Transaction, envelope: Envelope) -> None:
    """Any step of a referral (one consumer, in stream order): whether it can take an enrolment now."""
    status = STATUS_AFTER.get(short_type(envelope.type))
    if status is not None:
        await keep_referral(tx, envelope, msgspec.convert(envelope.data, ReferralParties), status)


async def keep_referral(
    tx: Transaction,
    envelope: Envelope,
    event: ReferralSubmitted | ReferralSubmittedV2 | ReferralParties,
    status: ReferralStatus,
) -> None:
    """Its municipality, its participant and its parties (its library and partners), who alone enrol it, and
    its status. The latest event's status wins: the consumers of the several types run side by side, so an
    older one arriving later (a submission after its acceptance) changes nothing."""
    await enrolment_store.keep_known_referral(
        tx.session,
        id=event.referral_id,
        municipality=event.municipality,
        library=event.library,
        participant_pseudonym=event.participant_pseudonym,
        referring_partner_id=event.referring_partner_id,
        receiving_partner_id=event.receiving_partner_id,
        status=status.value,
        status_at=envelope.time,
    )
