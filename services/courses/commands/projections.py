"""What the courses service keeps of the referrals service's events (libraries and partners: shared/known_parties)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert

from services.courses import store
from shared.contracts import Envelope
from shared.contracts.referrals.api.referrals import ReferralStatus
from shared.contracts.referrals.events import (
    ReferralAccepted,
    ReferralCompleted,
    ReferralDeclined,
    ReferralEvent,
    ReferralExpired,
    ReferralIntakeHeld,
    ReferralIntakePlanned,
    ReferralNoShowRecorded,
    ReferralSubmitted,
    ReferralSubmittedV2,
    ReferralWithdrawn,
)
from shared.unit_of_work import Transaction

# The referral events that move a referral into or out of the states an enrolment fits (enrolment itself
# keeps it in one), and the status each leaves behind.
STATUS_AFTER: dict[type[ReferralEvent], ReferralStatus] = {
    ReferralAccepted: ReferralStatus.ACCEPTED,
    ReferralIntakePlanned: ReferralStatus.INTAKE_PLANNED,
    ReferralIntakeHeld: ReferralStatus.INTAKE_HELD,
    ReferralDeclined: ReferralStatus.DECLINED,
    ReferralWithdrawn: ReferralStatus.WITHDRAWN,
    ReferralCompleted: ReferralStatus.COMPLETED,
    ReferralNoShowRecorded: ReferralStatus.NO_SHOW,
    ReferralExpired: ReferralStatus.EXPIRED,
}


async def remember_referral(tx: Transaction, envelope: Envelope, event: ReferralSubmitted) -> None:
    """Enrolments from a referral are checked against it: the right participant, in the right municipality."""
    await keep_referral(tx, envelope, event, ReferralStatus.SUBMITTED)


async def remember_referral_v2(tx: Transaction, envelope: Envelope, event: ReferralSubmittedV2) -> None:
    """A referral in either direction (a library's referral to a partner's course comes as v2 only)."""
    await keep_referral(tx, envelope, event, ReferralStatus.SUBMITTED)


async def referral_moved(tx: Transaction, envelope: Envelope, event: ReferralEvent) -> None:
    """A step of the referral: whether it can take an enrolment now."""
    await keep_referral(tx, envelope, event, STATUS_AFTER[type(event)])


async def keep_referral(
    tx: Transaction,
    envelope: Envelope,
    event: ReferralSubmitted | ReferralSubmittedV2 | ReferralEvent,
    status: ReferralStatus,
) -> None:
    """Its municipality, its participant and its parties (its library and partners), who alone enrol it, and
    its status. The latest event's status wins: the consumers of the several types run side by side, so an
    older one arriving later (a submission after its acceptance) changes nothing."""
    r = store.known_referrals
    statement = insert(r).values(
        id=event.referral_id,
        municipality=event.municipality,
        library=event.library,
        participant_pseudonym=event.participant_pseudonym,
        referring_partner_id=event.referring_partner_id,
        receiving_partner_id=event.receiving_partner_id,
        status=status.value,
        status_at=envelope.time,
    )
    await tx.session.execute(
        statement.on_conflict_do_update(
            index_elements=[r.c.id],
            set_={"status": statement.excluded.status, "status_at": statement.excluded.status_at},
            where=r.c.status_at.is_(None) | (r.c.status_at <= statement.excluded.status_at),
        )
    )
