"""Use cases of purchasing: request, quotes, approvals (a second approver above the threshold), order,
delivery, invoice, close. Budgets, budget holders and the threshold are set up in `budgets`.

A purchase's steps lock its row; a step that touches the budget then locks the budget's row, always
in that order, so two approvals against one budget are decided one after the other.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses import store
from services.courses.domain import purchasing as domain
from services.courses.domain.purchasing import Budget, PurchaseStep
from services.courses.queries import purchasing as queries
from services.courses.store import training_needs as training_need_store
from shared.clock import local_date
from shared.contracts.courses.api.purchasing import (
    AddQuote,
    ApproveInvoice,
    ApprovePurchase,
    CancelPurchase,
    ClosePurchase,
    InvitePartner,
    OrderPurchase,
    ProviderPurchaseView,
    PurchaseStatus,
    PurchaseView,
    RecordDelivery,
    RecordInvoice,
    RefuseInvoice,
    RejectPurchase,
    RequestPurchase,
    SubmitQuote,
)
from shared.contracts.courses.events import (
    Audience,
    PurchaseApproved,
    PurchaseCancelled,
    PurchaseClosed,
    PurchaseDelivered,
    PurchaseExcessPartlyApproved,
    PurchaseInvoiced,
    PurchaseInvoiceHeld,
    PurchaseInvoiceRefused,
    PurchaseOrdered,
    PurchasePartlyApproved,
    PurchaseProviderInvited,
    PurchaseQuoted,
    PurchaseRejected,
    PurchaseRequested,
)
from shared.errors import Conflict, InvalidInput, NotFound
from shared.ids import new_id
from shared.tenancy import Actor, Role
from shared.unit_of_work import Transaction, UnitOfWork
from shared.versions import is_stale, version_conflict

p = store.purchases


async def request_purchase(work: UnitOfWork, actor: Actor, command: RequestPurchase) -> PurchaseView:
    domain.check_may_purchase(actor)
    library = domain.purchasing_library(actor, command.library)
    purchase_id = new_id()
    async with work.transaction() as tx:
        municipality = await store.known.library_municipality(tx.session, library)
        if municipality is None:
            raise InvalidInput(f"library {library} is not known to the courses service")
        now = tx.clock.now()
        year = command.budget_year or domain.budget_year_of(now)
        budget = await queries.load_budget(tx.session, library, year)
        budget.check_room(command.estimated_cost_cents, "this request")
        audience = list(dict.fromkeys(command.audience))
        await tx.session.execute(
            p.insert().values(
                id=purchase_id,
                library=library,
                municipality=municipality,
                title=command.title,
                purpose=command.purpose,
                audience=[a.value for a in audience],
                estimated_cost_cents=command.estimated_cost_cents,
                budget_year=year,
                status=PurchaseStatus.REQUESTED.value,
                requested_by=actor.subject,
                requested_at=now,
                updated_at=now,
                version=1,
            )
        )
        await record_history(tx, purchase_id, PurchaseStatus.REQUESTED, actor, None)
        await tx.stage(
            PurchaseRequested(
                purchase_id=purchase_id,
                library=library,
                municipality=municipality,
                title=command.title,
                audience=audience,
                estimated_cost_cents=command.estimated_cost_cents,
                budget_year=year,
            ),
            municipality=municipality,
            library=library,
        )
        return await queries.load_purchase_view(tx.session, purchase_id)


async def record_history(
    tx: Transaction, purchase_id: UUID, status: PurchaseStatus, actor: Actor, note: str | None
) -> None:
    await tx.session.execute(
        store.purchase_history.insert().values(
            purchase_id=purchase_id, status=status.value, at=tx.clock.now(), actor=actor.subject, note=note
        )
    )


async def load_purchase_to_act(
    tx: Transaction, actor: Actor, purchase_id: UUID, expected_version: int | None
) -> sa.Row:
    """The purchase, locked; out of sight answers like missing, a coordinator's view is not enough to act."""
    row = await store.find_purchase(tx.session, purchase_id, for_update=True)
    if row is None:
        raise NotFound(f"purchase {purchase_id} not found")
    domain.check_may_act_for(actor, row.library, row.municipality, what=f"purchase {purchase_id}")
    if is_stale(expected_version, row.version):
        raise version_conflict(
            f"purchase {purchase_id}", expected_version, await queries.load_purchase_view(tx.session, purchase_id)
        )
    return row


async def advance(
    tx: Transaction, row: sa.Row, status: PurchaseStatus, actor: Actor, note: str | None, **values: Any
) -> None:
    await tx.session.execute(
        p.update()
        .where(p.c.id == row.id)
        .values(status=status.value, version=row.version + 1, updated_at=tx.clock.now(), **values)
    )
    await record_history(tx, row.id, status, actor, note)


async def save_budget(session: AsyncSession, budget: Budget) -> None:
    """Commitments and spending move the figures, not the version: they are not edits of the budget."""
    b = store.budgets
    await session.execute(
        b.update()
        .where(b.c.library == budget.library, b.c.year == budget.year)
        .values(committed_cents=budget.committed, spent_cents=budget.spent)
    )


async def find_quote(session: AsyncSession, purchase_id: UUID, quote_id: UUID | None) -> sa.Row | None:
    if quote_id is None:
        return None
    q = store.purchase_quotes
    return (await session.execute(sa.select(q).where(q.c.id == quote_id, q.c.purchase_id == purchase_id))).first()


async def add_quote(work: UnitOfWork, actor: Actor, command: AddQuote) -> PurchaseView:
    domain.check_may_purchase(actor)
    quote = command.quote
    quote_id = new_id()
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, quote.expected_version)
        status = domain.apply_step(PurchaseStatus(row.status), PurchaseStep.ADD_QUOTE)
        domain.check_new_quote(quote.valid_until, local_today(tx))
        if quote.provider_partner_id is not None and (
            await store.partner_municipality(tx.session, quote.provider_partner_id) != row.municipality
        ):
            raise InvalidInput(f"partner {quote.provider_partner_id} is not known in municipality {row.municipality}")
        await insert_quote(
            tx,
            row,
            status,
            actor,
            quote_id=quote_id,
            provider_name=quote.provider_name,
            provider_partner_id=quote.provider_partner_id,
            amount_cents=quote.amount_cents,
            description=quote.description,
            valid_until=quote.valid_until,
        )
        return await queries.load_purchase_view(tx.session, row.id)


def local_today(tx: Transaction) -> date:
    return tx.clock.now().astimezone(domain.LOCAL_TIME).date()


async def insert_quote(
    tx: Transaction,
    row: sa.Row,
    status: PurchaseStatus,
    actor: Actor,
    *,
    quote_id: UUID,
    provider_name: str,
    provider_partner_id: UUID | None,
    amount_cents: int,
    description: str,
    valid_until: date | None,
) -> None:
    await tx.session.execute(
        store.purchase_quotes.insert().values(
            id=quote_id,
            purchase_id=row.id,
            provider_name=provider_name,
            provider_partner_id=provider_partner_id,
            amount_cents=amount_cents,
            description=description,
            valid_until=valid_until,
            added_by=actor.subject,
            added_at=tx.clock.now(),
        )
    )
    await advance(tx, row, status, actor, f"quote from {provider_name}: {amount_cents} cents")
    await tx.stage(
        PurchaseQuoted(
            purchase_id=row.id,
            library=row.library,
            municipality=row.municipality,
            quote_id=quote_id,
            provider_name=provider_name,
            provider_partner_id=provider_partner_id,
            amount_cents=amount_cents,
        ),
        municipality=row.municipality,
        library=row.library,
    )


async def invite_partner(work: UnitOfWork, actor: Actor, command: InvitePartner) -> PurchaseView:
    """The library asks a partner of its municipality for a quote; the partner then submits its own."""
    domain.check_may_purchase(actor)
    invitation = command.invitation
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, invitation.expected_version)
        domain.apply_step(PurchaseStatus(row.status), PurchaseStep.ADD_QUOTE)  # only while quotes are welcome
        partner = await store.known.find_partner(tx.session, invitation.partner_id)
        if partner is None or partner.municipality != row.municipality:
            raise InvalidInput(f"partner {invitation.partner_id} is not known in municipality {row.municipality}")
        domain.check_partner_may_quote(partner.id, partner.status)
        i = store.purchase_invitations
        added = (
            await tx.session.execute(
                insert(i)
                .values(purchase_id=row.id, partner_id=partner.id, invited_by=actor.subject, invited_at=tx.clock.now())
                .on_conflict_do_nothing()
                .returning(i.c.partner_id)
            )
        ).first()
        if added is None:
            raise Conflict(f"partner {partner.id} was invited to quote for purchase {row.id} already")
        await advance(tx, row, PurchaseStatus(row.status), actor, f"{partner.name} invited to quote")
        await tx.stage(
            PurchaseProviderInvited(
                purchase_id=row.id,
                library=row.library,
                municipality=row.municipality,
                partner_id=partner.id,
                title=row.title,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await queries.load_purchase_view(tx.session, row.id)


async def submit_quote(work: UnitOfWork, actor: Actor, command: SubmitQuote) -> ProviderPurchaseView:
    """A partner's own quote for a purchase it was invited to, under the name the municipality knows it by."""
    domain.check_acts_as_partner(actor, command.partner_id)
    quote = command.quote
    quote_id = new_id()
    async with work.transaction() as tx:
        row = await store.find_purchase(tx.session, command.purchase_id, for_update=True)
        invited = row is not None and await store.find_invitation(tx.session, row.id, command.partner_id)
        if row is None or not invited:
            raise NotFound(f"purchase {command.purchase_id} not found")
        status = domain.apply_step(PurchaseStatus(row.status), PurchaseStep.ADD_QUOTE)
        domain.check_new_quote(quote.valid_until, local_today(tx))
        partner = await store.known.find_partner(tx.session, command.partner_id)
        assert partner is not None  # it was invited, so the projection knows it
        domain.check_partner_may_quote(partner.id, partner.status)
        await insert_quote(
            tx,
            row,
            status,
            actor,
            quote_id=quote_id,
            provider_name=partner.name,
            provider_partner_id=partner.id,
            amount_cents=quote.amount_cents,
            description=quote.description,
            valid_until=quote.valid_until,
        )
        return await queries.load_provider_view(tx.session, command.partner_id, row.id)


async def approve_purchase(work: UnitOfWork, actor: Actor, command: ApprovePurchase) -> PurchaseView:
    actor.require(Role.STAFF)  # approvers are budget holders among the library's staff
    approval = command.approval
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, approval.expected_version)
        a = store.purchase_approvals
        earlier = list(
            (await tx.session.execute(sa.select(a.c.approver).where(a.c.purchase_id == row.id))).scalars().all()
        )
        domain.check_may_approve(
            actor,
            library=row.library,
            holders=await store.holders_of(tx.session, row.library),
            requested_by=row.requested_by,
            earlier_approvers=earlier,
        )
        status = PurchaseStatus(row.status)
        domain.apply_step(status, PurchaseStep.APPROVE)  # is approving possible at all in this state?
        quote = await chosen_quote(tx.session, row, approval.quote_id)
        domain.check_quote_still_valid(quote.id, quote.valid_until, local_today(tx))
        policy = await queries.load_policy(tx.session, row.library)
        step = domain.approval_step(
            status, amount_cents=quote.amount_cents, threshold_cents=policy.second_approver_above_cents
        )
        new_status = domain.apply_step(status, step)
        budget = await queries.load_budget(tx.session, row.library, row.budget_year, for_update=True)
        now = tx.clock.now()
        if new_status is PurchaseStatus.APPROVED:
            await save_budget(tx.session, budget.commit(quote.amount_cents))
        else:
            budget.check_room(quote.amount_cents, "this approval")  # refuse early, not at the second approval
        await tx.session.execute(
            a.insert().values(
                purchase_id=row.id,
                approver=actor.subject,
                quote_id=quote.id,
                amount_cents=quote.amount_cents,
                approved_at=now,
                note=approval.note,
            )
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


async def chosen_quote(session: AsyncSession, row: sa.Row, quote_id: UUID | None) -> sa.Row:
    """The first approval chooses a quote; the second approves that same quote."""
    if row.chosen_quote_id is not None:
        if quote_id not in (None, row.chosen_quote_id):
            raise InvalidInput(
                f"the first approval was for quote {row.chosen_quote_id}; the second approval approves the same quote"
            )
        quote_id = row.chosen_quote_id
    if quote_id is None:
        raise InvalidInput("name the quote you approve (quote_id)")
    quote = await find_quote(session, row.id, quote_id)
    if quote is None:
        raise InvalidInput(f"quote {quote_id} is not a quote of purchase {row.id}")
    return quote


async def reject_purchase(work: UnitOfWork, actor: Actor, command: RejectPurchase) -> PurchaseView:
    actor.require(Role.STAFF)
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, command.expected_version)
        domain.check_may_reject(actor, library=row.library, holders=await store.holders_of(tx.session, row.library))
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
            budget = await queries.load_budget(tx.session, row.library, row.budget_year, for_update=True)
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


async def order_purchase(work: UnitOfWork, actor: Actor, command: OrderPurchase) -> PurchaseView:
    domain.check_may_purchase(actor)
    order = command.order
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, order.expected_version)
        status = domain.apply_step(PurchaseStatus(row.status), PurchaseStep.ORDER)
        quote = await find_quote(tx.session, row.id, row.chosen_quote_id)
        assert quote is not None
        await advance(
            tx,
            row,
            status,
            actor,
            f"order {order.order_reference}",
            order_reference=order.order_reference,
            ordered_at=tx.clock.now(),
        )
        await tx.stage(
            PurchaseOrdered(
                purchase_id=row.id,
                library=row.library,
                municipality=row.municipality,
                order_reference=order.order_reference,
                provider_name=quote.provider_name,
                provider_partner_id=quote.provider_partner_id,
                amount_cents=row.approved_amount_cents,
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await queries.load_purchase_view(tx.session, row.id)


async def record_delivery(work: UnitOfWork, actor: Actor, command: RecordDelivery) -> PurchaseView:
    """A programme delivered for volunteers becomes a training module in the volunteers service (its event)."""
    domain.check_may_purchase(actor)
    delivery = command.delivery
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, delivery.expected_version)
        status = domain.apply_step(PurchaseStatus(row.status), PurchaseStep.DELIVER)
        ordered_at = row.ordered_at or row.updated_at  # before migration 004 the order's time was not kept
        domain.check_delivery_date(delivery.delivered_on, local_date(ordered_at), local_date(tx.clock.now()))
        quote = await find_quote(tx.session, row.id, row.chosen_quote_id)
        assert quote is not None
        await advance(
            tx,
            row,
            status,
            actor,
            f"{delivery.sessions_held} sessions, {delivery.participants} participants",
            sessions_held=delivery.sessions_held,
            participants=delivery.participants,
            delivered_on=delivery.delivered_on,
        )
        audience = [Audience(x) for x in row.audience]
        bought_for = await training_need_store.needs_of(tx.session, [row.id])  # drafted from training needs
        await tx.stage(
            PurchaseDelivered(
                purchase_id=row.id,
                library=row.library,
                municipality=row.municipality,
                title=row.title,
                provider_partner_id=quote.provider_partner_id,
                for_volunteers=Audience.VOLUNTEERS in audience,
                purpose=row.purpose,
                audience=audience,
                provider_name=quote.provider_name,
                sessions_held=delivery.sessions_held,
                participants=delivery.participants,
                delivered_on=delivery.delivered_on,
                qualifications=sorted({need.qualification for need in bought_for}),
                training_need_ids=[need.id for need in bought_for],
            ),
            municipality=row.municipality,
            library=row.library,
        )
        return await queries.load_purchase_view(tx.session, row.id)


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
        budget = await queries.load_budget(tx.session, row.library, row.budget_year, for_update=True)
        if step is PurchaseStep.INVOICE:
            await book_invoice(
                tx, row, status, actor, budget, invoice.invoice_amount_cents, invoice.invoice_reference, approvers=[]
            )
            return await queries.load_purchase_view(tx.session, row.id)
        excess = invoice.invoice_amount_cents - row.approved_amount_cents
        budget.check_room(excess, "the difference of this invoice")  # refuse early, not at the last approval
        policy = await queries.load_policy(tx.session, row.library)
        needed = domain.excess_approvers_needed(invoice.invoice_amount_cents, policy.second_approver_above_cents)
        invoice_id = new_id()
        await tx.session.execute(
            store.purchase_invoices.insert().values(
                id=invoice_id,
                purchase_id=row.id,
                amount_cents=invoice.invoice_amount_cents,
                reference=invoice.invoice_reference,
                excess_cents=excess,
                approvers_needed=needed,
                status=INVOICE_WAITING,
                recorded_by=actor.subject,
                recorded_at=tx.clock.now(),
            )
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


async def waiting_invoice(tx: Transaction, row: sa.Row) -> sa.Row:
    i = store.purchase_invoices
    found = (
        await tx.session.execute(
            sa.select(i).where(i.c.purchase_id == row.id, i.c.status == INVOICE_WAITING).with_for_update()
        )
    ).first()
    assert found is not None, "a purchase awaiting invoice approval has its invoice"
    return found


async def approve_invoice(work: UnitOfWork, actor: Actor, command: ApproveInvoice) -> PurchaseView:
    """A budget holder approves the difference; the last approval needed books the invoice."""
    actor.require(Role.STAFF)
    approval = command.approval
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, approval.expected_version)
        status = PurchaseStatus(row.status)
        domain.apply_step(status, PurchaseStep.APPROVE_EXCESS)  # is there an invoice waiting at all?
        invoice = await waiting_invoice(tx, row)
        a = store.invoice_approvals
        earlier = list(
            (await tx.session.execute(sa.select(a.c.approver).where(a.c.invoice_id == invoice.id))).scalars().all()
        )
        domain.check_may_approve_excess(
            actor,
            library=row.library,
            holders=await store.holders_of(tx.session, row.library),
            requested_by=row.requested_by,
            recorded_by=invoice.recorded_by,
            earlier_approvers=earlier,
        )
        step = domain.excess_step(len(earlier), invoice.approvers_needed)
        new_status = domain.apply_step(status, step)
        budget = await queries.load_budget(tx.session, row.library, row.budget_year, for_update=True)
        now = tx.clock.now()
        await tx.session.execute(
            a.insert().values(invoice_id=invoice.id, approver=actor.subject, approved_at=now, note=approval.note)
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
        i = store.purchase_invoices
        await tx.session.execute(
            i.update()
            .where(i.c.id == invoice.id)
            .values(status=INVOICE_APPROVED, decided_at=now, decision_note=approval.note)
        )
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
        domain.check_may_reject(actor, library=row.library, holders=await store.holders_of(tx.session, row.library))
        status = domain.apply_step(PurchaseStatus(row.status), PurchaseStep.REFUSE_INVOICE)
        invoice = await waiting_invoice(tx, row)
        i = store.purchase_invoices
        await tx.session.execute(
            i.update()
            .where(i.c.id == invoice.id)
            .values(status=INVOICE_REFUSED, decided_at=tx.clock.now(), decision_note=command.reason)
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


async def close_purchase(work: UnitOfWork, actor: Actor, command: ClosePurchase) -> PurchaseView:
    domain.check_may_purchase(actor)
    async with work.transaction() as tx:
        row = await load_purchase_to_act(tx, actor, command.purchase_id, command.expected_version)
        status = domain.apply_step(PurchaseStatus(row.status), PurchaseStep.CLOSE)
        await advance(tx, row, status, actor, None)
        await tx.stage(
            PurchaseClosed(purchase_id=row.id, library=row.library, municipality=row.municipality),
            municipality=row.municipality,
            library=row.library,
        )
        return await queries.load_purchase_view(tx.session, row.id)
