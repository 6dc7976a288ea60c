"""The referral's lifecycle: every step is a legal transition, a history entry and an event, in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa

from services.referrals import domain, store
from services.referrals.commands.policy import policy_for
from services.referrals.domain import Step
from services.referrals.queries import referral as views
from services.referrals.store import duplicates as duplicate_store
from shared.contracts import EventData
from shared.contracts.referrals.api.referrals import (
    AcceptReferral,
    CompleteReferral,
    DeclineReferral,
    Intake,
    PlanIntake,
    RecordIntakeHeld,
    RecordNoShow,
    ReferralStatus,
    ReferralStep,
    ReferralView,
    WithdrawReferral,
)
from shared.contracts.referrals.events import (
    Outcome,
    ReferralAccepted,
    ReferralCompleted,
    ReferralCompletedV2,
    ReferralDeclined,
    ReferralIntakeHeld,
    ReferralIntakePlanned,
    ReferralNoShowRecorded,
    ReferralWithdrawn,
    SharedData,
)
from shared.errors import IllegalTransition, NotFound
from shared.tenancy import Actor
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict

log = logging.getLogger(__name__)

# Makes a step's event from the referral's row as it was before the step, and the time of the step.
EventFactory = Callable[[sa.Row, datetime], EventData]
# A rule of one step about the referral as it is (and the time): raises what refuses the step, or gives
# the values the step records beyond its own (they go into the history entry's details too).
StepRule = Callable[[sa.Row, datetime], dict[str, Any] | None]


def event_parties(row: sa.Row) -> dict[str, Any]:
    """The fields every referral event carries, under the same names."""
    return {
        "referral_id": row.id,
        "participant_pseudonym": row.participant_pseudonym,
        "referring_partner_id": row.referring_partner_id,
        "receiving_partner_id": row.receiving_partner_id,
        "library": row.library,
        "municipality": row.municipality,
    }


async def transition(
    tx: Transaction,
    row: sa.Row,
    step: Step,
    *,
    actor: str,
    event: EventFactory,
    values: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    note: str | None = None,
) -> ReferralStatus:
    """Apply one step to a locked row: the new status, version + 1, a history entry and the event."""
    now = tx.clock.now()
    status = ReferralStatus(row.status)
    target = domain.apply_step(status, step)
    version = row.version + 1
    changes: dict[str, Any] = {"status": target.value, "version": version, "updated_at": now, **(values or {})}
    if status is ReferralStatus.SUBMITTED:
        changes["overdue"] = False  # answered (or gone): no longer waiting; overdue_at keeps that it was late
    if target in domain.CLOSED:
        policy = await policy_for(tx.session, row.library)
        changes["closed_at"] = now
        changes["erase_after"] = policy.erase_after(now)
        await duplicate_store.forget_features(tx.session, row.id)  # compared with nothing any more
    elif status in domain.CLOSED:  # opened again (a no-show invited anew): no retention period runs
        changes["closed_at"] = None
        changes["erase_after"] = None
    await store.update_referral(tx.session, row.id, **changes)
    await store.add_history(
        tx.session,
        row.id,
        status=target.value,
        at=now,
        actor=actor,
        step=step.value,
        version=version,
        details=details,
        note=note,
    )
    await tx.stage(event(row, now), municipality=row.municipality, library=row.library)
    log.info("referral %s", target.value, extra={"pseudonym": row.participant_pseudonym, "library": row.library})
    return target


async def take_step(
    work: UnitOfWork,
    actor: Actor,
    request: ReferralStep[Any],
    step: Step,
    *,
    event: EventFactory,
    values: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    rule: StepRule | None = None,
) -> ReferralView:
    """A step by one of the parties: role first, then scope, side, version, the transition table, the step's rule."""
    domain.check_may_take_steps(actor)
    command = request.command
    async with work.transaction() as tx:
        row = await store.lock_referral(tx.session, request.referral_id)
        if row is None or not views.may_read(actor, row):
            raise NotFound(f"referral {request.referral_id} not found")
        domain.check_may_take_step(actor, views.parties_of(row), step)
        if is_stale(command.expected_version, row.version):
            raise version_conflict(
                f"referral {row.id}",
                command.expected_version,
                await views.as_seen_by(tx.session, actor, row, tx.clock.now()),
            )
        try:
            domain.apply_step(ReferralStatus(row.status), step)  # an illegal step is refused before its rule
            decided = (rule(row, tx.clock.now()) if rule is not None else None) or {}
            values = {**(values or {}), **decided}
            details = {**(details or {}), **msgspec.to_builtins(decided)}
            await transition(
                tx, row, step, actor=actor.subject, event=event, values=values, details=details, note=command.note
            )
        except IllegalTransition as exc:
            raise IllegalTransition(exc.detail, **exc.extra, version=row.version) from None
        row = await store.find_referral(tx.session, row.id)
        assert row is not None
        history = await store.history_of(tx.session, request.referral_id)
        shown = await views.shown_to_reader(tx.session, actor, row, tx.clock.now())
    return views.referral_view(row, history=history, shown=shown)


async def accept_referral(work: UnitOfWork, actor: Actor, request: ReferralStep[AcceptReferral]) -> ReferralView:
    return await take_step(
        work,
        actor,
        request,
        Step.ACCEPT,
        event=lambda row, now: ReferralAccepted(**event_parties(row), accepted_at=now),
    )


async def decline_referral(work: UnitOfWork, actor: Actor, request: ReferralStep[DeclineReferral]) -> ReferralView:
    reason = request.command.reason
    note = request.command.note
    return await take_step(
        work,
        actor,
        request,
        Step.DECLINE,
        rule=lambda row, now: domain.check_decline(reason, note),
        event=lambda row, now: ReferralDeclined(**event_parties(row), reason=reason, declined_at=now),
        values={"decline_reason": reason.value},
        details={"reason": reason.value},
    )


async def plan_intake(work: UnitOfWork, actor: Actor, request: ReferralStep[PlanIntake]) -> ReferralView:
    command = request.command
    intake = Intake(at=command.intake_at, place=command.place, contact_person=command.contact_person)

    def planned(row: sa.Row, now: datetime) -> EventData:
        # A new date after a missed intake is planned again, as much as a moved one.
        replanned = row.status in (ReferralStatus.INTAKE_PLANNED.value, ReferralStatus.NO_SHOW.value)
        return ReferralIntakePlanned(**event_parties(row), intake_at=intake.at, replanned=replanned, planned_at=now)

    return await take_step(
        work,
        actor,
        request,
        Step.PLAN_INTAKE,
        rule=lambda row, now: domain.check_may_reopen(row.anonymised_at),
        event=planned,
        values={"intake": msgspec.to_builtins(intake)},
        details={"intake_at": intake.at.isoformat()},
    )


def intake_at(row: sa.Row) -> datetime | None:
    return msgspec.convert(row.intake, Intake).at if row.intake is not None else None


async def record_intake_held(work: UnitOfWork, actor: Actor, request: ReferralStep[RecordIntakeHeld]) -> ReferralView:
    def took_place(row: sa.Row, now: datetime) -> dict[str, Any]:
        return {"intake_held_at": domain.intake_held_at(intake_at(row), request.command.held_at, now)}

    return await take_step(
        work,
        actor,
        request,
        Step.RECORD_INTAKE_HELD,
        rule=took_place,
        event=lambda row, now: ReferralIntakeHeld(
            **event_parties(row), held_at=took_place(row, now)["intake_held_at"], recorded_at=now
        ),
    )


def intake_has_passed(step: Step) -> StepRule:
    return lambda row, now: domain.check_intake_passed(step, intake_at(row), row.intake_held_at is not None, now)


def completed_event(row: sa.Row, outcome: Outcome, now: datetime) -> EventData:
    """The outcome goes back to the referrer only where the participant's consent shares it."""
    if SharedData.OUTCOME in views.consent_of(row).shares:
        return ReferralCompleted(**event_parties(row), outcome=outcome, completed_at=now)
    return ReferralCompletedV2(**event_parties(row), completed_at=now)


async def complete_referral(work: UnitOfWork, actor: Actor, request: ReferralStep[CompleteReferral]) -> ReferralView:
    outcome = request.command.outcome
    return await take_step(
        work,
        actor,
        request,
        Step.COMPLETE,
        rule=intake_has_passed(Step.COMPLETE),
        event=lambda row, now: completed_event(row, outcome, now),
        values={"outcome": msgspec.to_builtins(outcome)},
        details={"outcome": msgspec.to_builtins(outcome)},
    )


async def withdraw_referral(work: UnitOfWork, actor: Actor, request: ReferralStep[WithdrawReferral]) -> ReferralView:
    reason = request.command.reason
    return await take_step(
        work,
        actor,
        request,
        Step.WITHDRAW,
        event=lambda row, now: ReferralWithdrawn(**event_parties(row), reason=reason, withdrawn_at=now),
        values={"withdraw_reason": reason.value},
        details={"reason": reason.value},
    )


async def record_no_show(work: UnitOfWork, actor: Actor, request: ReferralStep[RecordNoShow]) -> ReferralView:
    return await take_step(
        work,
        actor,
        request,
        Step.MARK_NO_SHOW,
        rule=intake_has_passed(Step.MARK_NO_SHOW),
        event=lambda row, now: ReferralNoShowRecorded(**event_parties(row), recorded_at=now),
    )
