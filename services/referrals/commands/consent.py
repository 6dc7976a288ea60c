"""The end of a participant's consent: revoked by what they told one of the parties, or lapsed at its last day.

Either way, in one transaction: the consent is marked ended (from then on no party is shown the person,
domain/consent.py), an event says so to the partners involved (their feeds and webhooks), the history and the
access log record it, and the referral is withdrawn if it was still open.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa

from services.referrals import domain, store
from services.referrals.commands import lifecycle
from services.referrals.commands.lifecycle import event_parties, transition
from services.referrals.domain import Step
from services.referrals.domain import consent as consent_rules
from services.referrals.queries import referral as views
from services.referrals.store import deadlines as due_store
from services.referrals.store import personal_data
from shared.clock import local_date
from shared.contracts import EventData
from shared.contracts.referrals.api.participant_data import AccessPurpose
from shared.contracts.referrals.api.referrals import (
    ConsentRevocation,
    ConsentState,
    ReferralStatus,
    ReferralStep,
    ReferralView,
    RevokeConsent,
    WithdrawReferral,
)
from shared.contracts.referrals.events import (
    ConsentSide,
    ReferralConsentExpired,
    ReferralConsentRevoked,
    ReferralWithdrawn,
    WithdrawReason,
)
from shared.errors import NotFound
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork, in_batches
from shared.versions import is_stale, version_conflict

log = logging.getLogger(__name__)

SYSTEM = "system:referral-consent"  # the history's and the access log's actor for a consent that lapsed
BATCH = 200


async def end_consent(
    tx: Transaction,
    row: sa.Row,
    state: ConsentState,
    *,
    actor: str,
    actor_role: str,
    actor_organisation: str | None,
    event: EventData,
    revocation: ConsentRevocation | None = None,
    note: str | None = None,
) -> None:
    """Mark the consent of a locked row ended, announce it, log it, and withdraw the referral if it is open."""
    now = tx.clock.now()
    version = row.version + 1
    await store.update_referral(
        tx.session,
        row.id,
        consent_state=state.value,
        consent_ended_at=now,
        consent_revocation=msgspec.to_builtins(revocation) if revocation is not None else None,
        version=version,
        updated_at=now,
    )
    details: dict[str, Any] = {"consent": state.value}
    if revocation is not None:
        details |= {"recorded_by": revocation.recorded_by.value, "told_at": revocation.told_at.isoformat()}
        if revocation.told_via is not None:
            details["told_via"] = revocation.told_via.value
    step = "revoke_consent" if state is ConsentState.REVOKED else "consent_expired"
    await store.add_history(
        tx.session,
        row.id,
        status=row.status,
        at=now,
        actor=actor,
        step=step,
        version=version,
        details=details,
        note=note,
    )
    purpose = AccessPurpose.CONSENT_REVOKED if state is ConsentState.REVOKED else AccessPurpose.CONSENT_EXPIRED
    await personal_data.log_personal_data_read(
        tx.session,
        referral_id=row.id,
        library=row.library,
        participant_pseudonym=row.participant_pseudonym,
        actor=actor,
        actor_role=actor_role,
        actor_organisation=actor_organisation,
        purpose=purpose.value,
        at=now,
    )
    await tx.stage(event, municipality=row.municipality, library=row.library)
    if ReferralStatus(row.status) not in domain.CLOSED:
        reloaded = await store.find_referral(tx.session, row.id)
        assert reloaded is not None
        await transition(
            tx,
            reloaded,
            Step.WITHDRAW,
            actor=actor,
            event=lambda r, at: ReferralWithdrawn(
                **event_parties(r), reason=WithdrawReason.CONSENT_WITHDRAWN, withdrawn_at=at
            ),
            values={"withdraw_reason": WithdrawReason.CONSENT_WITHDRAWN.value},
            details={"reason": WithdrawReason.CONSENT_WITHDRAWN.value, "because": f"consent {state.value}"},
        )
    log.info("consent %s", state.value, extra={"pseudonym": row.participant_pseudonym, "library": row.library})


async def record_revocation(
    tx: Transaction, row: sa.Row, actor: Actor, revocation: ConsentRevocation, note: str | None = None
) -> None:
    await end_consent(
        tx,
        row,
        ConsentState.REVOKED,
        actor=actor.subject,
        actor_role=actor.role.value,
        actor_organisation=actor.library or actor.partner,
        event=ReferralConsentRevoked(
            **event_parties(row),
            recorded_by=revocation.recorded_by,
            told_via=revocation.told_via,
            revoked_at=revocation.recorded_at,
        ),
        revocation=revocation,
        note=note,
    )


async def revoke_consent(work: UnitOfWork, actor: Actor, request: ReferralStep[RevokeConsent]) -> ReferralView:
    """Either side records that the participant withdrew consent (at the desk, by phone …)."""
    domain.check_may_take_steps(actor)
    command = request.command
    async with work.transaction() as tx:
        row = await store.lock_referral(tx.session, request.referral_id)
        if row is None or not views.may_read(actor, row):
            raise NotFound(f"referral {request.referral_id} not found")
        now = tx.clock.now()
        side = consent_rules.check_may_revoke(
            actor, views.parties_of(row), views.consent_state_of(row, now), command.told_at, now
        )
        if is_stale(command.expected_version, row.version):
            raise version_conflict(
                f"referral {row.id}",
                command.expected_version,
                await views.as_seen_by(tx.session, actor, row, tx.clock.now()),
            )
        revocation = ConsentRevocation(
            recorded_by=side,
            recorded_by_actor=actor.subject,
            recorded_at=now,
            told_at=command.told_at,
            told_via=command.told_via,
        )
        await record_revocation(tx, row, actor, revocation, note=command.note)
        row = await store.find_referral(tx.session, row.id)
        assert row is not None
        history = await store.history_of(tx.session, request.referral_id)
        shown = await views.shown_to_reader(tx.session, actor, row, tx.clock.now())
    return views.referral_view(row, history=history, shown=shown)


async def expire_lapsed_consents(work: UnitOfWork, *, library: str | None = None) -> int:
    """Consents whose last day has passed end: recorded, announced, and what is open withdrawn.

    Reads already treat such a consent as ended the moment its day passes (domain/consent.py consent_state);
    this periodic job makes it so in the referral's state, its history and the partners' feeds.
    """

    async def expire(tx: Transaction, row: sa.Row, now: datetime) -> None:
        await end_consent(
            tx,
            row,
            ConsentState.EXPIRED,
            actor=SYSTEM,
            actor_role="system",
            actor_organisation=None,
            event=ReferralConsentExpired(**event_parties(row), valid_until=row.consent_valid_until, expired_at=now),
        )

    expired = await in_batches(
        work,
        lambda tx, now: due_store.lapsed_consents(tx.session, local_date(now), library, BATCH),
        expire,
        batch=BATCH,
    )
    if expired:
        log.info("ended %d lapsed consents", expired)
    return expired


async def withdraw_referral(work: UnitOfWork, actor: Actor, request: ReferralStep[WithdrawReferral]) -> ReferralView:
    """A withdrawal because the participant withdrew consent is a revocation recorded by the referring side: it
    ends the consent as well, not only the referral. Any other reason is the lifecycle's plain step."""
    command = request.command
    if command.reason is not WithdrawReason.CONSENT_WITHDRAWN:
        return await lifecycle.withdraw_referral(work, actor, request)
    domain.check_may_take_steps(actor)
    async with work.transaction() as tx:
        row = await store.lock_referral(tx.session, request.referral_id)
        if row is None or not views.may_read(actor, row):
            raise NotFound(f"referral {request.referral_id} not found")
        domain.check_may_take_step(actor, views.parties_of(row), Step.WITHDRAW)
        if is_stale(command.expected_version, row.version):
            raise version_conflict(
                f"referral {row.id}",
                command.expected_version,
                await views.as_seen_by(tx.session, actor, row, tx.clock.now()),
            )
        domain.apply_step(ReferralStatus(row.status), Step.WITHDRAW)  # an illegal move says so, as the step would
        now = tx.clock.now()
        consent_rules.check_may_revoke(actor, views.parties_of(row), views.consent_state_of(row, now), now, now)
        revocation = ConsentRevocation(
            recorded_by=ConsentSide.REFERRING, recorded_by_actor=actor.subject, recorded_at=now, told_at=now
        )
        await record_revocation(tx, row, actor, revocation, note=command.note)
        row = await store.find_referral(tx.session, row.id)
        assert row is not None
        history = await store.history_of(tx.session, request.referral_id)
        shown = await views.shown_to_reader(tx.session, actor, row, tx.clock.now())
    return views.referral_view(row, history=history, shown=shown)
