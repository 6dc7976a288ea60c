"""The participant's rights and the keys: export (access), erasure, erasure after retention, key rotation."""

from __future__ import annotations

import logging
from uuid import UUID

import sqlalchemy as sa

from services.referrals import domain, store
from services.referrals.commands.lifecycle import event_parties, transition
from services.referrals.domain import Step
from services.referrals.queries import referral as views
from services.referrals.store import duplicates as duplicate_store
from services.referrals.store import participants as participant_store
from services.referrals.store import personal_data
from services.referrals.store.personal_data import ParticipantVault
from shared.contracts.referrals.api.participant_data import (
    AccessPurpose,
    EraseParticipantData,
    ExportParticipantData,
    ParticipantExport,
    RotateEncryption,
    RotationResult,
)
from shared.contracts.referrals.api.referrals import ReferralStatus, ReferralView
from shared.contracts.referrals.events import AnonymisationReason, ReferralAnonymised, ReferralWithdrawn, WithdrawReason
from shared.errors import NotFound
from shared.resealing import reseal_column
from shared.tenancy import Actor, Role
from shared.unit_of_work import Transaction, UnitOfWork

log = logging.getLogger(__name__)


async def anonymise(tx: Transaction, row: sa.Row, *, reason: AnonymisationReason, actor: str) -> None:
    """Erase who the participant is; status, needs, dates and outcome stay, so the statistics keep working."""
    now = tx.clock.now()
    version = row.version + 1
    await personal_data.erase_personal_data(tx.session, row.id)
    await duplicate_store.forget(tx.session, row.id)  # the blind index is derived from the personal data
    # The code stays (a keyed hash of random characters, no personal data): it opens a page that says the data
    # was erased and when, instead of one that says the code is unknown.
    await participant_store.close_requests_by_erasure(tx.session, row.id, now, actor)
    await store.update_referral(tx.session, row.id, anonymised_at=now, version=version, updated_at=now)
    await store.add_history(
        tx.session,
        row.id,
        status=row.status,
        at=now,
        actor=actor,
        step="anonymise",
        version=version,
        details={"reason": reason.value},
    )
    await tx.stage(
        ReferralAnonymised(**event_parties(row), reason=reason, anonymised_at=now),
        municipality=row.municipality,
        library=row.library,
    )
    log.info("personal data erased", extra={"pseudonym": row.participant_pseudonym, "library": row.library})


async def _own_referral(tx: Transaction, actor: Actor, referral_id: UUID) -> sa.Row:
    row = await store.lock_referral(tx.session, referral_id)
    if row is None:
        raise NotFound(f"referral {referral_id} not found")
    domain.check_may_manage_personal_data(actor, row.library)
    return row


async def export_participant_data(
    work: UnitOfWork, vault: ParticipantVault, actor: Actor, command: ExportParticipantData
) -> ParticipantExport:
    """The right of access: all that is held about the participant of a referral, for the library's staff."""
    domain.check_may_manage_personal_data(actor)
    async with work.transaction() as tx:
        row = await _own_referral(tx, actor, command.referral_id)
        participant = None
        if row.participant_sealed is not None:
            participant = vault.unseal(row.participant_sealed)
            await views.log_read(tx, row, actor, AccessPurpose.EXPORT)
        history = await store.history_of(tx.session, row.id)
        reads = await personal_data.reads_of(tx.session, row.id)
        exported_at = tx.clock.now()
    return ParticipantExport(
        referral=views.referral_view(row, participant=participant, history=history),
        access_log=[views.access_entry(read) for read in reads],
        exported_at=exported_at,
    )


async def erase_participant_data(work: UnitOfWork, actor: Actor, command: EraseParticipantData) -> ReferralView:
    """The right to erasure for one referral (services/referrals/commands/person.py: for all of a person's)."""
    domain.check_may_manage_personal_data(actor)
    async with work.transaction() as tx:
        row = await _own_referral(tx, actor, command.referral_id)
        await erase_one(tx, actor, row)
        erased = await _own_referral(tx, actor, command.referral_id)
        history = await store.history_of(tx.session, command.referral_id)
    return views.referral_view(erased, history=history)


async def erase_one(tx: Transaction, actor: Actor, row: sa.Row) -> bool:
    """Erase a locked referral's personal data; an open referral is withdrawn first (it cannot go on without the
    person). False if it was erased already: erasing twice changes nothing."""
    if row.anonymised_at is not None:
        return False
    if ReferralStatus(row.status) not in domain.CLOSED:
        reason = WithdrawReason.ERASURE_REQUESTED
        await transition(
            tx,
            row,
            Step.WITHDRAW,
            actor=actor.subject,
            event=lambda row, now: ReferralWithdrawn(**event_parties(row), reason=reason, withdrawn_at=now),
            values={"withdraw_reason": reason.value},
            details={"reason": reason.value},
        )
        row = await _own_referral(tx, actor, row.id)
    await anonymise(tx, row, reason=AnonymisationReason.ERASURE_REQUESTED, actor=actor.subject)
    return True


async def rotate_encryption(
    work: UnitOfWork, vault: ParticipantVault, actor: Actor, command: RotateEncryption
) -> RotationResult:
    """Re-seal every participant's data with the newest configured key, in batches; then older keys can go."""
    actor.require(Role.OPERATOR)
    r = store.referrals
    resealed = await reseal_column(work, vault.reseal, r, r.c.id, r.c.participant_sealed)
    log.info("re-sealed the personal data of %d referrals with the newest key", resealed)
    return RotationResult(resealed=resealed)
