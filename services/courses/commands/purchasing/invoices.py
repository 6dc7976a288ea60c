"""The invoice: up to the approved amount the commitment moves to spent; above it the difference waits for
budget holders (two when the invoiced amount is above the threshold), who approve or refuse it."""

from __future__ import annotations

import sqlalchemy as sa

from services.courses.commands.purchasing.steps import (
    advance,
    load_purchase_to_act,
    save_budget,
)
from services.courses.domain import purchasing as domain
from services.courses.domain.purchasing import Budget, PurchaseStep
from services.courses.queries import budgets as budget_queries
from services.courses.queries import purchasing as queries
from services.courses.store import purchasing as purchasing_store
from shared.contracts.courses.api.purchasing import (
    ApproveInvoice,
    PurchaseStatus,
    PurchaseView,
    RecordInvoice,
    RefuseInvoice,
)
from shared.contracts.courses.events import (
    PurchaseExcessPartlyApproved,
    PurchaseInvoiced,
    PurchaseInvoiceHeld,
    PurchaseInvoiceRefused,
)
from shared.ids import new_id
from shared.tenancy import Actor, Role
from shared.unit_of_work import Transaction, UnitOfWork


async def record_invoice(work: UnitOfWork, actor: Actor, command: RecordInvoice) -> PurchaseView:
    """Up to the approved amount the commitment moves to spent; above it the difference waits for approval by
    budget holders (two when the invoiced amount is above the threshold), and nothing is spent meanwhile."""
    domain.check_may_purchase(actor)
    invoice = command.invoice
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, invoice.expected_version)
        domain.apply_step(PurchaseStatus(row.status), PurchaseStep.INVOICE)  # may it be invoiced at all now?
        step = domain.invoice_step(invoice.invoice_amount_cents, row.approved_amount_cents)
        status = domain.apply_step(PurchaseStatus(row.status), step)
        budget = await budget_queries.load_budget(tx.session, row.library, row.budget_year, for_update=True)
        if step is PurchaseStep.INVOICE:
            await book_invoice(
                tx, row, status, actor, budget, invoice.invoice_amount_cents, invoice.invoice_reference, approvers=[]
            )
            return await queries.load_purchase_view(tx.session, row.id)
        excess = invoice.invoice_amount_cents - row.approved_amount_cents
        budget.check_room(excess, "the difference of this invoice")  # refuse early, not at the last approval
        policy = await budget_queries.load_policy(tx.session, row.library)
        needed = domain.excess_approvers_needed(invoice.invoice_amount_cents, policy.second_approver_above_cents)
        invoice_id = new_id()
        await purchasing_store.add_invoice(
            tx.session,
            id=invoice_id,
            purchase_id=row.id,
            amount_cents=invoice.invoice_amount_cents,
            reference=invoice.invoice_reference,
            excess_cents=excess,
            approvers_needed=needed,
            recorded_by=actor.subject,
            recorded_at=tx.clock.now(),
        )
        await advance(
            tx,
            row,
            status,
            actor,
            f"invoice {invoice.invoice_reference}: {invoice.invoice_amount_cents} cents, {excess} above the approved "
            f"amount; {needed} budget holder(s) must approve the difference",
        )
        await tx.stage(
            PurchaseInvoiceHeld(
                purchase_id=row.id,
                library=row.library,
                municipality=row.municipality,
                invoice_id=invoice_id,
                invoice_amount_cents=invoice.invoice_amount_cents,
                approved_amount_cents=row.approved_amount_cents,
                excess_cents=excess,
                approvers_needed=needed,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await queries.load_purchase_view(tx.session, row.id)


INVOICE_WAITING, INVOICE_APPROVED, INVOICE_REFUSED = "awaiting_approval", "approved", "refused"


async def book_invoice(
    tx: Transaction,
    row: sa.Row,
    status: PurchaseStatus,
    actor: Actor,
    budget: Budget,
    amount_cents: int,
    reference: str,
    *,
    approvers: list[str],
) -> None:
    """The commitment moves to spent: the invoiced amount must fit in what the budget has left."""
    await save_budget(tx.session, budget.spend(committed_cents=row.approved_amount_cents, invoice_cents=amount_cents))
    await advance(
        tx,
        row,
        status,
        actor,
        f"invoice {reference}: {amount_cents} cents",
        invoice_amount_cents=amount_cents,
        invoice_reference=reference,
    )
    await tx.stage(
        PurchaseInvoiced(
            purchase_id=row.id,
            library=row.library,
            municipality=row.municipality,
            budget_year=row.budget_year,
            committed_cents=row.approved_amount_cents,
            invoice_amount_cents=amount_cents,
            excess_approvers=approvers,
        ),
        municipality=row.municipality,
        library=row.library,
    )


async def approve_invoice(work: UnitOfWork, actor: Actor, command: ApproveInvoice) -> PurchaseView:
    """A budget holder approves the difference; the last approval needed books the invoice."""
    actor.require(Role.STAFF)
    approval = command.approval
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, approval.expected_version)
        status = PurchaseStatus(row.status)
        domain.apply_step(status, PurchaseStep.APPROVE_EXCESS)  # is there an invoice waiting at all?
        invoice = await waiting_invoice(tx, row)
        earlier = await purchasing_store.invoice_approvers(tx.session, invoice.id)
        domain.check_may_approve_excess(
            actor,
            library=row.library,
            holders=await purchasing_store.holders_of(tx.session, row.library),
            requested_by=row.requested_by,
            recorded_by=invoice.recorded_by,
            earlier_approvers=earlier,
        )
        step = domain.excess_step(len(earlier), invoice.approvers_needed)
        new_status = domain.apply_step(status, step)
        budget = await budget_queries.load_budget(tx.session, row.library, row.budget_year, for_update=True)
        now = tx.clock.now()
        await purchasing_store.add_invoice_approval(
            tx.session, invoice_id=invoice.id, approver=actor.subject, approved_at=now, note=approval.note
        )
        if step is PurchaseStep.APPROVE_EXCESS_FIRST:
            budget.check_room(invoice.excess_cents, "the difference of this invoice")
            await advance(
                tx, row, new_status, actor, approval.note or f"difference of {invoice.excess_cents} cents approved"
            )
            await tx.stage(
                PurchaseExcessPartlyApproved(
                    purchase_id=row.id,
                    library=row.library,
                    municipality=row.municipality,
                    invoice_id=invoice.id,
                    excess_cents=invoice.excess_cents,
                    approver=actor.subject,
                ),
                municipality=row.municipality,
                library=row.library,
            )
            return await queries.load_purchase_view(tx.session, row.id)
        await purchasing_store.decide_invoice(tx.session, invoice.id, approved=True, at=now, note=approval.note)
        await book_invoice(
            tx,
            row,
            new_status,
            actor,
            budget,
            invoice.amount_cents,
            invoice.reference,
            approvers=[*earlier, actor.subject],
        )
        return await queries.load_purchase_view(tx.session, row.id)


async def refuse_invoice(work: UnitOfWork, actor: Actor, command: RefuseInvoice) -> PurchaseView:
    """A budget holder refuses the difference: the invoice goes back to the provider, the purchase is delivered
    (awaiting a corrected invoice), and the commitment stays as approved."""
    actor.require(Role.STAFF)
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, command.expected_version)
        domain.check_may_reject(
            actor, library=row.library, holders=await purchasing_store.holders_of(tx.session, row.library)
        )
        status = domain.apply_step(PurchaseStatus(row.status), PurchaseStep.REFUSE_INVOICE)
        invoice = await waiting_invoice(tx, row)
        await purchasing_store.decide_invoice(
            tx.session, invoice.id, approved=False, at=tx.clock.now(), note=command.reason
        )
        await advance(tx, row, status, actor, f"invoice {invoice.reference} refused: {command.reason}")
        await tx.stage(
            PurchaseInvoiceRefused(
                purchase_id=row.id,
                library=row.library,
                municipality=row.municipality,
                invoice_id=invoice.id,
                invoice_amount_cents=invoice.amount_cents,
                reason=command.reason,
                refused_by=actor.subject,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await queries.load_purchase_view(tx.session, row.id)


async def waiting_invoice(tx: Transaction, row: sa.Row) -> sa.Row:
    found = await purchasing_store.waiting_invoice(tx.session, row.id)
    assert found is not None, "a purchase awaiting invoice approval has its invoice"
    return found
