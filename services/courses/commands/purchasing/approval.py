"""Budget holders approve a quote (a second, different one above the threshold) or reject the purchase; the
library may cancel it before ordering, which releases an approved commitment."""

from __future__ import annotations

from services.courses.commands.purchasing.steps import (
    advance,
    chosen_quote,
    load_purchase_to_act,
    local_today,
    save_budget,
)
from services.courses.domain import purchasing as domain
from services.courses.domain.purchasing import PurchaseStep
from services.courses.queries import budgets as budget_queries
from services.courses.queries import purchasing as queries
from services.courses.store import purchasing as purchasing_store
from shared.contracts.courses.api.purchasing import (
    ApprovePurchase,
    CancelPurchase,
    PurchaseStatus,
    PurchaseView,
    RejectPurchase,
)
from shared.contracts.courses.events import (
    PurchaseApproved,
    PurchaseCancelled,
    PurchasePartlyApproved,
    PurchaseRejected,
)
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork


async def approve_purchase(work: UnitOfWork, actor: Actor, command: ApprovePurchase) -> PurchaseView:
    actor.require(Role.STAFF)  # approvers are budget holders among the library's staff
    approval = command.approval
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, approval.expected_version)
        earlier = await purchasing_store.approvers_of(tx.session, row.id)
        domain.check_may_approve(
            actor,
            library=row.library,
            holders=await purchasing_store.holders_of(tx.session, row.library),
            requested_by=row.requested_by,
            earlier_approvers=earlier,
        )
        status = PurchaseStatus(row.status)
        domain.apply_step(status, PurchaseStep.APPROVE)  # is approving possible at all in this state?
        quote = await chosen_quote(tx.session, row, approval.quote_id)
        domain.check_quote_still_valid(quote.id, quote.valid_until, local_today(tx))
        policy = await budget_queries.load_policy(tx.session, row.library)
        step = domain.approval_step(
            status, amount_cents=quote.amount_cents, threshold_cents=policy.second_approver_above_cents
        )
        new_status = domain.apply_step(status, step)
        budget = await budget_queries.load_budget(tx.session, row.library, row.budget_year, for_update=True)
        now = tx.clock.now()
        if new_status is PurchaseStatus.APPROVED:
            await save_budget(tx.session, budget.commit(quote.amount_cents))
        else:
            budget.check_room(quote.amount_cents, "this approval")  # refuse early, not at the second approval
        await purchasing_store.add_approval(
            tx.session,
            purchase_id=row.id,
            approver=actor.subject,
            quote_id=quote.id,
            amount_cents=quote.amount_cents,
            approved_at=now,
            note=approval.note,
        )
        final = new_status is PurchaseStatus.APPROVED
        await advance(
            tx,
            row,
            new_status,
            actor,
            approval.note,
            chosen_quote_id=quote.id,
            approved_amount_cents=quote.amount_cents if final else None,
        )
        event: PurchaseApproved | PurchasePartlyApproved
        if final:
            event = PurchaseApproved(
                purchase_id=row.id,
                library=row.library,
                municipality=row.municipality,
                quote_id=quote.id,
                amount_cents=quote.amount_cents,
                budget_year=row.budget_year,
                approvers=[*earlier, actor.subject],
                provider_partner_id=quote.provider_partner_id,
            )
        else:
            event = PurchasePartlyApproved(
                purchase_id=row.id,
                library=row.library,
                municipality=row.municipality,
                quote_id=quote.id,
                amount_cents=quote.amount_cents,
                approver=actor.subject,
            )
        await tx.stage(event, municipality=row.municipality, library=row.library)
        return await queries.load_purchase_view(tx.session, row.id)


async def reject_purchase(work: UnitOfWork, actor: Actor, command: RejectPurchase) -> PurchaseView:
    actor.require(Role.STAFF)
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, command.expected_version)
        domain.check_may_reject(
            actor, library=row.library, holders=await purchasing_store.holders_of(tx.session, row.library)
        )
        status = domain.apply_step(PurchaseStatus(row.status), PurchaseStep.REJECT)
        await advance(tx, row, status, actor, command.reason)
        await tx.stage(
            PurchaseRejected(
                purchase_id=row.id,
                library=row.library,
                municipality=row.municipality,
                reason=command.reason,
                rejected_by=actor.subject,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await queries.load_purchase_view(tx.session, row.id)


async def cancel_purchase(work: UnitOfWork, actor: Actor, command: CancelPurchase) -> PurchaseView:
    domain.check_may_purchase(actor)
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, command.expected_version)
        was = PurchaseStatus(row.status)
        status = domain.apply_step(was, PurchaseStep.CANCEL)
        released = 0
        if was is PurchaseStatus.APPROVED:
            released = row.approved_amount_cents
            budget = await budget_queries.load_budget(tx.session, row.library, row.budget_year, for_update=True)
            await save_budget(tx.session, budget.release(released))
        await advance(tx, row, status, actor, command.reason)
        await tx.stage(
            PurchaseCancelled(
                purchase_id=row.id,
                library=row.library,
                municipality=row.municipality,
                reason=command.reason,
                released_cents=released,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await queries.load_purchase_view(tx.session, row.id)
