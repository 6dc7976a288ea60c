"""Purchasing as the caller may see it: purchases with their quotes, approvals and history (and, for a draft made
from training needs, those needs and the budget check), and a partner's side of it. Budgets, budget holders and
the threshold are read in `budgets`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses import store
from services.courses.domain import training_needs as rules
from services.courses.domain.purchasing import (
    check_acts_as_partner,
    check_may_read_purchasing,
)
from services.courses.queries.budgets import load_budget
from services.courses.store import purchasing as purchasing_store
from services.courses.store import training_needs as needs
from shared.contracts.courses.api.purchasing import (
    ApprovalView,
    GetProviderPurchase,
    GetPurchase,
    InvoiceView,
    ListProviderPurchases,
    ListPurchases,
    ProviderPurchaseView,
    ProviderStanding,
    PurchaseStatus,
    PurchaseStepView,
    PurchaseTrainingNeed,
    PurchaseView,
    QuoteView,
)
from shared.contracts.courses.events import Audience
from shared.errors import InvalidInput, NotFound
from shared.pagination import Page, decode_cursor, encode_cursor, keyset_page
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

p = purchasing_store.purchases


async def load_purchase_view(session: AsyncSession, purchase_id: UUID) -> PurchaseView:
    row = (await session.execute(sa.select(p).where(p.c.id == purchase_id))).one()
    return (await purchase_views(session, [row]))[0]


def quote_view(r: sa.Row) -> QuoteView:
    return QuoteView(
        id=r.id,
        provider_name=r.provider_name,
        provider_partner_id=r.provider_partner_id,
        amount_cents=r.amount_cents,
        description=r.description,
        valid_until=r.valid_until,
        added_at=r.added_at,
    )


async def purchase_views(session: AsyncSession, rows: list[sa.Row]) -> list[PurchaseView]:
    ids = [row.id for row in rows]
    quotes: dict[UUID, list[QuoteView]] = {i: [] for i in ids}
    approvals: dict[UUID, list[ApprovalView]] = {i: [] for i in ids}
    history: dict[UUID, list[PurchaseStepView]] = {i: [] for i in ids}
    invited: dict[UUID, list[UUID]] = {i: [] for i in ids}
    invoices: dict[UUID, list[InvoiceView]] = {i: [] for i in ids}
    if ids:
        q, a, h = (
            purchasing_store.purchase_quotes,
            purchasing_store.purchase_approvals,
            purchasing_store.purchase_history,
        )
        for r in await session.execute(sa.select(q).where(q.c.purchase_id.in_(ids)).order_by(q.c.added_at, q.c.id)):
            quotes[r.purchase_id].append(quote_view(r))
        for r in await session.execute(sa.select(a).where(a.c.purchase_id.in_(ids)).order_by(a.c.approved_at)):
            approvals[r.purchase_id].append(
                ApprovalView(
                    approver=r.approver,
                    quote_id=r.quote_id,
                    amount_cents=r.amount_cents,
                    approved_at=r.approved_at,
                    note=r.note,
                )
            )
        for r in await session.execute(sa.select(h).where(h.c.purchase_id.in_(ids)).order_by(h.c.id)):
            history[r.purchase_id].append(
                PurchaseStepView(status=PurchaseStatus(r.status), at=r.at, actor=r.actor, note=r.note)
            )
        i = purchasing_store.purchase_invitations
        for r in await session.execute(sa.select(i).where(i.c.purchase_id.in_(ids)).order_by(i.c.invited_at)):
            invited[r.purchase_id].append(r.partner_id)
        for purchase_id, invoice in await invoice_views(session, ids):
            invoices[purchase_id].append(invoice)
    views = [
        purchase_view(row, quotes[row.id], approvals[row.id], history[row.id], invited[row.id], invoices[row.id])
        for row in rows
    ]
    return await with_training_needs(session, views)


async def invoice_views(session: AsyncSession, purchase_ids: list[UUID]) -> list[tuple[UUID, InvoiceView]]:
    """Invoices above the approved amount, oldest first, each with who approved its difference."""
    i, ia = purchasing_store.purchase_invoices, purchasing_store.invoice_approvals
    rows = (
        await session.execute(sa.select(i).where(i.c.purchase_id.in_(purchase_ids)).order_by(i.c.recorded_at, i.c.id))
    ).all()
    approvers: dict[UUID, list[str]] = {r.id: [] for r in rows}
    if rows:
        for r in await session.execute(
            sa.select(ia).where(ia.c.invoice_id.in_(list(approvers))).order_by(ia.c.approved_at)
        ):
            approvers[r.invoice_id].append(r.approver)
    return [
        (
            r.purchase_id,
            InvoiceView(
                id=r.id,
                amount_cents=r.amount_cents,
                reference=r.reference,
                excess_cents=r.excess_cents,
                approvers_needed=r.approvers_needed,
                approvers=approvers[r.id],
                status=r.status,
                recorded_by=r.recorded_by,
                recorded_at=r.recorded_at,
                decided_at=r.decided_at,
                decision_note=r.decision_note,
            ),
        )
        for r in rows
    ]


def purchase_view(
    row: sa.Row,
    quotes: list[QuoteView],
    approvals: list[ApprovalView],
    history: list[PurchaseStepView],
    invited: list[UUID],
    invoices: list[InvoiceView],
) -> PurchaseView:
    audience = [Audience(x) for x in row.audience]
    return PurchaseView(
        id=row.id,
        library=row.library,
        municipality=row.municipality,
        title=row.title,
        purpose=row.purpose,
        audience=audience,
        for_volunteers=Audience.VOLUNTEERS in audience,
        estimated_cost_cents=row.estimated_cost_cents,
        budget_year=row.budget_year,
        status=PurchaseStatus(row.status),
        quotes=quotes,
        chosen_quote_id=row.chosen_quote_id,
        approvals=approvals,
        approved_amount_cents=row.approved_amount_cents,
        order_reference=row.order_reference,
        sessions_held=row.sessions_held,
        participants=row.participants,
        delivered_on=row.delivered_on,
        invoice_amount_cents=row.invoice_amount_cents,
        invoice_reference=row.invoice_reference,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        history=history,
        version=row.version,
        ordered_at=row.ordered_at,
        invited_partner_ids=invited,
        invoices=invoices,
    )


# The budget check compares the cheapest quote (or the estimate) with what the budget has left, until approval.
BEFORE_APPROVAL = frozenset({PurchaseStatus.REQUESTED, PurchaseStatus.QUOTED, PurchaseStatus.AWAITING_SECOND_APPROVAL})


async def with_training_needs(session: AsyncSession, views: list[PurchaseView]) -> list[PurchaseView]:
    """A draft the service made from training needs shows the needs it answers and the budget check, as they stand."""
    generated = await needs.generated_among(session, [view.id for view in views])
    if not generated:
        return views
    by_purchase: dict[UUID, list[PurchaseTrainingNeed]] = {purchase_id: [] for purchase_id in generated}
    for row in await needs.needs_of(session, list(generated)):
        by_purchase[row.purchase_id].append(
            PurchaseTrainingNeed(
                need_id=row.id,
                qualification=row.qualification,
                volunteers=row.volunteers,
                needed_by=row.needed_by,
                expiring=row.expiring,
                refused=row.refused,
                met=row.met,
            )
        )
    enriched = []
    for view in views:
        if view.id not in generated:
            enriched.append(view)
            continue
        check = None
        if view.status in BEFORE_APPROVAL:  # after approval the amount is in the budget's commitments
            budget = await load_budget(session, view.library, view.budget_year)
            asked = min((quote.amount_cents for quote in view.quotes), default=view.estimated_cost_cents)
            check = rules.budget_check(budget, asked)
        enriched.append(
            msgspec.structs.replace(
                view, generated_from_training_needs=True, training_needs=by_purchase[view.id], budget_check=check
            )
        )
    return enriched


# --- a partner's purchases: those it was invited to quote for ----------------------------------------

NOT_CHOSEN_ANY_MORE = frozenset({PurchaseStatus.REJECTED, PurchaseStatus.CANCELLED})


async def provider_views(session: AsyncSession, partner_id: UUID, rows: list[sa.Row]) -> list[ProviderPurchaseView]:
    """`rows` come from `invited_purchases`: purchases with the time the partner was invited."""
    ids = [row.id for row in rows]
    q = purchasing_store.purchase_quotes
    quotes: dict[UUID, list[sa.Row]] = {i: [] for i in ids}
    if ids:
        for r in await session.execute(
            sa.select(q)
            .where(q.c.purchase_id.in_(ids), q.c.provider_partner_id == partner_id)
            .order_by(q.c.added_at, q.c.id)
        ):
            quotes[r.purchase_id].append(r)
    return [provider_view(row, quotes[row.id]) for row in rows]


def provider_view(purchase: sa.Row, own_quotes: list[sa.Row]) -> ProviderPurchaseView:
    """What the invited partner sees: where it stands, and the order onwards only where its quote was chosen."""
    status = PurchaseStatus(purchase.status)
    chosen = purchase.chosen_quote_id is not None and any(q.id == purchase.chosen_quote_id for q in own_quotes)
    if chosen:
        standing = ProviderStanding.CHOSEN
    elif purchase.chosen_quote_id is not None or status in NOT_CHOSEN_ANY_MORE:
        standing = ProviderStanding.NOT_CHOSEN
    else:
        standing = ProviderStanding.QUOTED if own_quotes else ProviderStanding.INVITED
    own = chosen and status not in NOT_CHOSEN_ANY_MORE
    return ProviderPurchaseView(
        id=purchase.id,
        library=purchase.library,
        municipality=purchase.municipality,
        title=purchase.title,
        purpose=purchase.purpose,
        audience=[Audience(x) for x in purchase.audience],
        standing=standing,
        invited_at=purchase.invited_at,
        quotes=[quote_view(q) for q in own_quotes],
        status=status if chosen else None,
        approved_amount_cents=purchase.approved_amount_cents if own else None,
        order_reference=purchase.order_reference if own else None,
        ordered_at=purchase.ordered_at if own else None,
        delivered_on=purchase.delivered_on if own else None,
        sessions_held=purchase.sessions_held if own else None,
        participants=purchase.participants if own else None,
        invoice_amount_cents=purchase.invoice_amount_cents if own else None,
        invoice_reference=purchase.invoice_reference if own else None,
        version=purchase.version,
    )


def invited_purchases(partner_id: UUID) -> sa.Select[Any]:
    """The partner's purchases, each row a purchase with `invited_at`: only those it was invited to."""
    i = purchasing_store.purchase_invitations
    return sa.select(p, i.c.invited_at).join(i, i.c.purchase_id == p.c.id).where(i.c.partner_id == partner_id)


async def load_provider_view(session: AsyncSession, partner_id: UUID, purchase_id: UUID) -> ProviderPurchaseView:
    found = (await session.execute(invited_purchases(partner_id).where(p.c.id == purchase_id))).first()
    if found is None:
        raise NotFound(f"purchase {purchase_id} not found")
    return (await provider_views(session, partner_id, [found]))[0]


async def get_provider_purchase(work: UnitOfWork, actor: Actor, query: GetProviderPurchase) -> ProviderPurchaseView:
    check_acts_as_partner(actor, query.partner_id)
    async with work.read() as session:
        return await load_provider_view(session, query.partner_id, query.purchase_id)


async def list_provider_purchases(
    work: UnitOfWork, actor: Actor, query: ListProviderPurchases
) -> Page[ProviderPurchaseView]:
    check_acts_as_partner(actor, query.partner_id)
    async with work.read() as session:
        rows, next_cursor = await keyset_page(
            session, invited_purchases(query.partner_id), [p.c.id], query.cursor, query.limit, descending=True
        )
        items = await provider_views(session, query.partner_id, list(rows))
    return Page(items=items, next_cursor=next_cursor)


async def get_purchase(work: UnitOfWork, actor: Actor, query: GetPurchase) -> PurchaseView:
    check_may_read_purchasing(actor)
    async with work.read() as session:
        row = (await session.execute(sa.select(p).where(p.c.id == query.purchase_id))).first()
        if row is None or not actor.can_see_library(row.library, row.municipality):
            raise NotFound(f"purchase {query.purchase_id} not found")
        return (await purchase_views(session, [row]))[0]


async def list_purchases(work: UnitOfWork, actor: Actor, query: ListPurchases) -> Page[PurchaseView]:
    check_may_read_purchasing(actor)
    after = decode_cursor(query.cursor)
    statement = sa.select(p).where(store.visible_to(actor, p))
    if query.library is not None:
        statement = statement.where(p.c.library == query.library)
    if query.status is not None:
        statement = statement.where(p.c.status == query.status.value)
    if query.budget_year is not None:
        statement = statement.where(p.c.budget_year == query.budget_year)
    if after is not None:
        try:
            last_id = UUID(str(after[0]))
        except (IndexError, ValueError) as exc:
            raise InvalidInput("the cursor is not valid") from exc
        statement = statement.where(p.c.id < last_id)  # ids are time-ordered: newest first
    async with work.read() as session:
        rows = (await session.execute(statement.order_by(p.c.id.desc()).limit(query.limit + 1))).all()
        items = await purchase_views(session, list(rows[: query.limit]))
    more = len(rows) > query.limit
    return Page(items=items, next_cursor=encode_cursor(str(items[-1].id)) if more else None)
