"""What the courses service keeps of the referrals service's events (libraries and partners: shared/known_parties)."""

from __future__ import annotations

import msgspec

from services.courses.store import enrolment as enrolment_store
from shared.contracts import Envelope, short_type
from shared.contracts.referrals.api.referrals import ReferralStatus
from shared.contracts.referrals.events import ReferralParties
from shared.unit_of_work import Transaction

# The referral events that make a referral known or move it into or out of the states an enrolment fits, and the
# status each leaves behind; the other referral events (overdue, waiting list, a participant to tell …) leave the
# status as it is. A submission (v1, or v2 in either direction) comes to the same consumer as every other step: two
# consumers of their own for the submissions cost a pull and a transaction each per referral for what this one
# receives anyway (issue 17's sixth round).
STATUS_AFTER: dict[str, ReferralStatus] = {
    "referral.submitted": ReferralStatus.SUBMITTED,
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


async def referral_moved(tx: Transaction, envelope: Envelope) -> None:
    """Any step of a referral (one consumer, in stream order): the referral known, with its parties, who alone
    enrol it, and whether it can take an enrolment now."""
    status = STATUS_AFTER.get(short_type(envelope.type))
    if status is not None:
        await keep_referral(tx, envelope, msgspec.convert(envelope.data, ReferralParties), status)


async def keep_referral(
    tx: Transaction,
    envelope: Envelope,
    event: ReferralParties,
    status: ReferralStatus,
) -> None:
    """Its municipality, its participant and its parties (its library and partners), who alone enrol it, and
    its status. The latest event's status wins: an older one arriving later (a submission redelivered after its
    acceptance) changes nothing."""
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
