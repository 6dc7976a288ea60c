"""Training needs buy themselves: the volunteers service's `training.needed` events become a purchase request
draft per library (status `requested`, by `system:training-needs`), which follows its needs until a budget
holder takes it further; `training_need.met` takes a need out again (a draft without needs is cancelled).

From there it is an ordinary purchase: quote, approve (against the budget), order, deliver. Its delivery event
names the qualifications, so the volunteers service makes modules that renew them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from services.courses.domain import purchasing as purchasing_rules
from services.courses.domain import training_needs as rules
from services.courses.domain.purchasing import PurchaseStep
from services.courses.store import purchasing as purchasing_store
from services.courses.store import training_needs as needs
from shared.contracts import Envelope
from shared.contracts.courses.api.purchasing import PurchaseStatus
from shared.contracts.courses.events import Audience, PurchaseCancelled, PurchaseRequested
from shared.contracts.volunteers.events import TrainingNeeded, TrainingNeedMet
from shared.ids import new_id
from shared.unit_of_work import Transaction

log = logging.getLogger(__name__)


async def plan_purchase(tx: Transaction, envelope: Envelope, event: TrainingNeeded) -> None:
    """Record the need (the newest revision wins) and put it in the library's draft, or start one."""
    await _lock_library(tx, event.library)
    row = await needs.lock_need(tx.session, event.need_id)
    if row is not None and not rules.is_newer(event.revision, row.revision):
        return
    await needs.save_need(
        tx.session,
        id=event.need_id,
        library=event.library,
        municipality=event.municipality,
        qualification=event.qualification,
        volunteers=event.volunteers,
        expiring=event.expiring,
        refused=event.refused,
        needed_by=event.needed_by,
        validity_months=event.validity_months,
        revision=event.revision,
        met=False,
        updated_at=tx.clock.now(),
    )
    linked = (
        await purchasing_store.find_purchase(tx.session, row.purchase_id, for_update=True)
        if row and row.purchase_id
        else None
    )
    status = PurchaseStatus(linked.status) if linked is not None else None
    if linked is not None and status in rules.DRAFT:
        await refresh_draft(tx, linked)
        return
    if not rules.needs_new_draft(status):
        return  # being bought already: the purchase in progress answers it
    draft = await needs.open_draft(tx.session, event.library)
    await needs.link(tx.session, event.need_id, draft.id if draft is not None else None)
    if draft is not None:
        await refresh_draft(tx, draft)
    else:
        await start_draft(tx, event.library, event.municipality, event.need_id)


async def need_met(tx: Transaction, envelope: Envelope, event: TrainingNeedMet) -> None:
    """Nobody needs the training any more: out of its draft (a draft left without needs is cancelled)."""
    await _lock_library(tx, event.library)
    row = await needs.lock_need(tx.session, event.need_id)
    if row is not None and not rules.is_newer(event.revision, row.revision):
        return
    if row is None:  # the met event overtook the need itself: remember it, so the older one changes nothing
        await needs.save_need(
            tx.session,
            id=event.need_id,
            library=event.library,
            municipality=event.municipality,
            qualification=event.qualification,
            volunteers=0,
            expiring=0,
            refused=0,
            needed_by=envelope.time.date(),
            revision=event.revision,
            met=True,
            updated_at=tx.clock.now(),
        )
        return
    await needs.update_need(tx.session, row.id, met=True, revision=event.revision, updated_at=tx.clock.now())
    if row.purchase_id is not None:
        linked = await purchasing_store.find_purchase(tx.session, row.purchase_id, for_update=True)
        if linked is not None and PurchaseStatus(linked.status) in rules.DRAFT:
            await refresh_draft(tx, linked)


async def _lock_library(tx: Transaction, library: str) -> None:
    """One draft per library, even with needs arriving on several replicas at once."""
    await needs.lock_library_drafts(tx.session, library)


def _needs(rows: list[sa.Row]) -> list[rules.Need]:
    return [rules.Need(r.qualification, r.volunteers, r.needed_by) for r in rows if not r.met]


async def start_draft(tx: Transaction, library: str, municipality: str, need_id: UUID) -> None:
    now = tx.clock.now()
    purchase_id = new_id()
    need = await needs.lock_need(tx.session, need_id)
    assert need is not None
    draft = rules.draft_for(_needs([need]), purchasing_rules.budget_year_of(now))
    await purchasing_store.add_purchase(
        tx.session,
        id=purchase_id,
        library=library,
        municipality=municipality,
        title=draft.title,
        purpose=draft.purpose,
        audience=[Audience.VOLUNTEERS.value],
        estimated_cost_cents=draft.estimated_cost_cents,
        budget_year=draft.budget_year,
        status=PurchaseStatus.REQUESTED.value,
        requested_by=rules.GENERATED_BY,
        requested_at=now,
        updated_at=now,
        version=1,
    )
    await needs.mark_generated(tx.session, purchase_id, library, now)
    await needs.link(tx.session, need.id, purchase_id)
    await _history(tx, purchase_id, PurchaseStatus.REQUESTED, "drafted from the library's training needs", now)
    await tx.stage(
        PurchaseRequested(
            purchase_id=purchase_id,
            library=library,
            municipality=municipality,
            title=draft.title,
            audience=[Audience.VOLUNTEERS],
            estimated_cost_cents=draft.estimated_cost_cents,
            budget_year=draft.budget_year,
            generated_from_training_needs=True,
            training_need_ids=[need.id],
        ),
        municipality=municipality,
        library=library,
    )
    log.info("purchase drafted from training needs", extra={"library": library, "purchase_id": str(purchase_id)})


async def refresh_draft(tx: Transaction, purchase: sa.Row) -> None:
    """The draft says what its open needs need now; without any, it is cancelled (nothing was committed)."""
    now = tx.clock.now()
    open_needs = _needs(await needs.needs_of(tx.session, [purchase.id]))
    if not open_needs:
        status = purchasing_rules.apply_step(PurchaseStatus(purchase.status), PurchaseStep.CANCEL)
        await purchasing_store.update_purchase(
            tx.session, purchase.id, status=status.value, version=purchase.version + 1, updated_at=now
        )
        reason = "the training needs it was drafted for are met"
        await _history(tx, purchase.id, status, reason, now)
        await tx.stage(
            PurchaseCancelled(
                purchase_id=purchase.id,
                library=purchase.library,
                municipality=purchase.municipality,
                reason=reason,
                released_cents=0,
            ),
            municipality=purchase.municipality,
            library=purchase.library,
        )
        return
    draft = rules.draft_for(open_needs, purchasing_rules.budget_year_of(now))
    current = (purchase.title, purchase.purpose, purchase.estimated_cost_cents, purchase.budget_year)
    if current == (draft.title, draft.purpose, draft.estimated_cost_cents, draft.budget_year):
        return
    await purchasing_store.update_purchase(
        tx.session,
        purchase.id,
        title=draft.title,
        purpose=draft.purpose,
        estimated_cost_cents=draft.estimated_cost_cents,
        budget_year=draft.budget_year,
        version=purchase.version + 1,
        updated_at=now,
    )
    await _history(tx, purchase.id, PurchaseStatus.REQUESTED, "updated from the library's training needs", now)


async def _history(tx: Transaction, purchase_id: UUID, status: PurchaseStatus, note: str, at: datetime) -> None:
    await purchasing_store.add_history(
        tx.session, purchase_id, status=status.value, at=at, actor=rules.GENERATED_BY, note=note
    )
