"""What the courses service's enrolments do to a referral: a place is recorded on it (the referrer told by the
event), a waiting list too, and a place from the waiting list asks the library to tell the participant."""

from __future__ import annotations

import logging
from uuid import UUID

import msgspec
import sqlalchemy as sa

from services.referrals import domain, store
from services.referrals.commands.lifecycle import event_parties, transition
from services.referrals.domain import Step
from services.referrals.domain.contact import may_contact_participant
from shared.contracts import Envelope
from shared.contracts.courses.events import EnrolmentConfirmed, EnrolmentWaitlisted
from shared.contracts.referrals.api.referrals import Consent, ConsentState, ContactChannel, ReferralStatus
from shared.contracts.referrals.events import (
    NotificationReason,
    ReferralEnrolled,
    ReferralNotificationRequested,
    ReferralWaitlisted,
)
from shared.errors import IllegalTransition
from shared.unit_of_work import Transaction

log = logging.getLogger(__name__)


async def referral_of(
    tx: Transaction, envelope: Envelope, referral_id: UUID | None, municipality: str, pseudonym: str
) -> sa.Row | None:
    """The referral an enrolment names, locked; None (logged) when it names none that fits: retrying would
    not make it fit."""
    if referral_id is None:
        return None
    row = await store.lock_referral(tx.session, referral_id)
    if row is None or row.municipality != municipality:
        log.warning("enrolment names an unknown referral", extra={"event_id": str(envelope.id)})
        return None
    if row.participant_pseudonym != pseudonym:
        log.warning("enrolment names another participant than its referral", extra={"event_id": str(envelope.id)})
        return None
    return row


async def record_enrolment(tx: Transaction, envelope: Envelope, event: EnrolmentConfirmed) -> None:
    """The courses service enrolled the participant of a referral: the only way a referral becomes enrolled.

    A referral that cannot enrol now (the courses service refuses those, but a step may have crossed the
    enrolment on its way) changes nothing and is logged.
    """
    row = await referral_of(tx, envelope, event.referral_id, event.municipality, event.participant_pseudonym)
    if row is None or row.enrolment_id == event.enrolment_id:
        return
    promoted = event.promoted_from_waiting_list
    try:
        await transition(
            tx,
            row,
            Step.ENROL,
            actor=envelope.source,
            event=lambda row, now: ReferralEnrolled(
                **event_parties(row),
                course_id=event.course_id,
                enrolment_id=event.enrolment_id,
                enrolled_at=now,
                promoted_from_waiting_list=promoted,
                session_starts_at=event.session_starts_at,
            ),
            values={"course_id": event.course_id, "enrolment_id": event.enrolment_id},
            details={
                "course_id": str(event.course_id),
                "enrolment_id": str(event.enrolment_id),
                "promoted_from_waiting_list": promoted,
            },
        )
    except IllegalTransition as exc:
        log.warning(
            "enrolment ignored: %s", exc.detail, extra={"pseudonym": row.participant_pseudonym, "library": row.library}
        )
        return
    if promoted:
        await ask_to_tell_participant(tx, row, event)


async def ask_to_tell_participant(tx: Transaction, row: sa.Row, event: EnrolmentConfirmed) -> None:
    """Someone on a waiting list has a place: only a person can say so, so the library is asked to, by the
    participant's own channel where it may still contact them (consent valid, data not erased). Otherwise the
    referrer, who already reads the enrolment in its feed, is the one to tell them."""
    now = tx.clock.now()
    channel = ContactChannel(row.preferred_channel)
    consent = msgspec.convert(row.consent, Consent)
    kept = ConsentState(row.consent_state)
    allowed = may_contact_participant(channel, consent, kept, row.library, row.anonymised_at is not None, now)
    reason = NotificationReason.PLACE_FROM_WAITING_LIST
    await store.add_history(
        tx.session,
        row.id,
        status=ReferralStatus.ENROLLED.value,
        at=now,
        actor="referrals",
        step="request_notification",
        version=row.version + 1,
        details={"reason": reason.value, "channel": channel.value if allowed else None},
    )
    await tx.stage(
        ReferralNotificationRequested(
            **event_parties(row),
            reason=reason,
            channel=channel.value if allowed else None,
            course_id=event.course_id,
            enrolment_id=event.enrolment_id,
            session_starts_at=event.session_starts_at,
            requested_at=now,
        ),
        municipality=row.municipality,
        library=row.library,
    )


async def record_waitlisting(tx: Transaction, envelope: Envelope, event: EnrolmentWaitlisted) -> None:
    """The participant of a referral waits for a place: the referral says so, and the referrer is told."""
    row = await referral_of(tx, envelope, event.referral_id, event.municipality, event.participant_pseudonym)
    if row is None:
        return
    status = ReferralStatus(row.status)
    if (status, Step.ENROL) not in domain.TRANSITIONS:
        log.warning(
            "waiting list ignored: a referral that is %s cannot enrol",
            status.value,
            extra={"pseudonym": row.participant_pseudonym, "library": row.library},
        )
        return
    now = tx.clock.now()
    await store.add_history(
        tx.session,
        row.id,
        status=row.status,
        at=now,
        actor=envelope.source,
        step="waitlist",
        version=row.version,
        details={
            "course_id": str(event.course_id),
            "enrolment_id": str(event.enrolment_id),
            "waiting_list_position": event.waiting_list_position,
        },
    )
    await tx.stage(
        ReferralWaitlisted(
            **event_parties(row),
            course_id=event.course_id,
            enrolment_id=event.enrolment_id,
            waiting_list_position=event.waiting_list_position,
            waitlisted_at=now,
        ),
        municipality=row.municipality,
        library=row.library,
    )
