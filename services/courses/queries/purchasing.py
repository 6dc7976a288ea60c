"""Purchasing as the caller may see it: purchases with their quotes, approvals and history (and, for a draft made
from training needs, those needs and the budget check); budgets."""

from __future__ import annotations

from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses import store
from services.courses.domain import training_needs as rules
from services.courses.domain.purchasing import (
    DEFAULT_SECOND_APPROVER_ABOVE_CENTS,
    Budget,
    check_may_read_library,
    check_may_read_purchasing,
)
from services.courses.store import training_needs as needs
from shared.contracts.courses.api.budgets import (
    BudgetHolderView,
    BudgetView,
    GetBudget,
    GetPurchasingPolicy,
    ListBudgetHolders,
    ListBudgets,
    PurchasingPolicyView,
)
from shared.contracts.courses.api.purchasing import (
    ApprovalView,
    GetPurchase,
    ListPurchases,
    PurchaseStatus,
    PurchaseStepView,
    PurchaseTrainingNeed,
    PurchaseView,
    QuoteView,
)
from shared.contracts.courses.events import Audience
from shared.errors import InvalidInput, NotFound
from shared.pagination import Page, decode_cursor, encode_cursor
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork

p = store.purchases


async def load_purchase_view(session: AsyncSession, purchase_id: UUID) -> PurchaseView:
    row = (await session.execute(sa.select(p).where(p.c.id == purchase_id))).one()
    return (await purchase_views(session, [row]))[0]


async def purchase_views(session: AsyncSession, rows: list[sa.Row]) -> list[PurchaseView]:
    ids = [row.id for row in rows]
    quotes: dict[UUID, list[QuoteView]] = {i: [] for i in ids}
    approvals: dict[UUID, list[ApprovalView]] = {i: [] for i in ids}
    history: dict[UUID, list[PurchaseStepView]] = {i: [] for i in ids}
    if ids:
        q, a, h = store.purchase_quotes, store.purchase_approvals, store.purchase_history
        for r in await session.execute(sa.select(q).where(q.c.purchase_id.in_(ids)).order_by(q.c.added_at, q.c.id)):
            quotes[r.purchase_id].append(
                QuoteView(
                    id=r.id,
                    provider_name=r.provider_name,
                    provider_partner_id=r.provider_partner_id,
                    amount_cents=r.amount_cents,
                    description=r.description,
                    valid_until=r.valid_until,
                    added_at=r.added_at,
                )
            )
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
    views = [purchase_view(row, quotes[row.id], approvals[row.id], history[row.id]) for row in rows]
    return await with_training_needs(session, views)


def purchase_view(
    row: sa.Row, quotes: list[QuoteView], approvals: list[ApprovalView], history: list[PurchaseStepView]
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


async def get_purchase(work: UnitOfWork, actor: Actor, query: GetPurchase) -> PurchaseView:
    check_may_read_purchasing(actor)
    async with work.read() as session:
        row = (await session.execute(sa.select(p).where(p.c.id == query.purchase_id))).first()
        if row is None or not actor.can_see_library(row.library, row.municipality):
            raise NotFound(f"purchase {query.purchase_id} not found")
        return (await purchase_views(session, [row]))[0]


def visible_to(actor: Actor, table: sa.Table) -> sa.ColumnElement[bool]:
    """The SQL twin of `Actor.can_see_library` for a table with `library` and `municipality`."""
    if actor.role is Role.OPERATOR:
        return sa.true()
    if actor.role is Role.COORDINATOR:
        return table.c.municipality == actor.municipality
    if actor.role is Role.STAFF:
        return table.c.library == actor.library
    return sa.false()


async def list_purchases(work: UnitOfWork, actor: Actor, query: ListPurchases) -> Page[PurchaseView]:
    check_may_read_purchasing(actor)
    after = decode_cursor(query.cursor)
    statement = sa.select(p).where(visible_to(actor, p))
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


# --- budgets ---------------------------------------------------------------------------------------


async def load_budget(session: AsyncSession, library: str, year: int, *, for_update: bool = False) -> Budget:
    b = store.budgets
    statement = sa.select(b).where(b.c.library == library, b.c.year == year)
    if for_update:
        statement = statement.with_for_update()
    row = (await session.execute(statement)).first()
    if row is None:
        return Budget(library=library, year=year)
    return Budget(
        library=library, year=year, amount=row.amount_cents, committed=row.committed_cents, spent=row.spent_cents
    )


def budget_view(row: sa.Row) -> BudgetView:
    return BudgetView(
        library=row.library,
        municipality=row.municipality,
        year=row.year,
        amount_cents=row.amount_cents,
        committed_cents=row.committed_cents,
        spent_cents=row.spent_cents,
        available_cents=row.amount_cents - row.committed_cents - row.spent_cents,
        version=row.version,
    )


async def load_budget_view(session: AsyncSession, library: str, municipality: str, year: int) -> BudgetView:
    b = store.budgets
    row = (await session.execute(sa.select(b).where(b.c.library == library, b.c.year == year))).first()
    if row is None:  # no budget set: nothing to spend, but a real answer
        return BudgetView(
            library=library,
            municipality=municipality,
            year=year,
            amount_cents=0,
            committed_cents=0,
            spent_cents=0,
            available_cents=0,
            version=0,
        )
    return budget_view(row)


async def get_budget(work: UnitOfWork, actor: Actor, query: GetBudget) -> BudgetView:
    check_may_read_purchasing(actor)
    async with work.read() as session:
        municipality = await store.known.library_municipality(session, query.library)
        check_may_read_library(actor, query.library, municipality, what=f"library {query.library}")
        assert municipality is not None
        return await load_budget_view(session, query.library, municipality, query.year)


async def list_budgets(work: UnitOfWork, actor: Actor, query: ListBudgets) -> Page[BudgetView]:
    check_may_read_purchasing(actor)
    b = store.budgets
    after = decode_cursor(query.cursor)
    statement = sa.select(b).where(visible_to(actor, b))
    if query.library is not None:
        statement = statement.where(b.c.library == query.library)
    if query.year is not None:
        statement = statement.where(b.c.year == query.year)
    if after is not None:
        try:
            library, year = str(after[0]), int(after[1])
        except (IndexError, ValueError, TypeError) as exc:
            raise InvalidInput("the cursor is not valid") from exc
        statement = statement.where(sa.or_(b.c.library > library, sa.and_(b.c.library == library, b.c.year < year)))
    async with work.read() as session:
        rows = (await session.execute(statement.order_by(b.c.library, b.c.year.desc()).limit(query.limit + 1))).all()
    items = [budget_view(row) for row in rows[: query.limit]]
    more = len(rows) > query.limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].library, items[-1].year) if more else None)


# --- budget holders and the threshold --------------------------------------------------------------


async def list_budget_holders(work: UnitOfWork, actor: Actor, query: ListBudgetHolders) -> Page[BudgetHolderView]:
    check_may_read_purchasing(actor)
    h = store.budget_holders
    after = decode_cursor(query.cursor)
    async with work.read() as session:
        municipality = await store.known.library_municipality(session, query.library)
        check_may_read_library(actor, query.library, municipality, what=f"library {query.library}")
        statement = sa.select(h).where(h.c.library == query.library)
        if after is not None:
            statement = statement.where(h.c.subject > str(after[0]))
        rows = (await session.execute(statement.order_by(h.c.subject).limit(query.limit + 1))).all()
    items = [
        BudgetHolderView(library=r.library, subject=r.subject, appointed_by=r.appointed_by, appointed_at=r.appointed_at)
        for r in rows[: query.limit]
    ]
    more = len(rows) > query.limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].subject) if more else None)


async def load_policy(session: AsyncSession, library: str) -> PurchasingPolicyView:
    pp = store.purchasing_policies
    row = (await session.execute(sa.select(pp).where(pp.c.library == library))).first()
    if row is None:
        return PurchasingPolicyView(
            library=library, second_approver_above_cents=DEFAULT_SECOND_APPROVER_ABOVE_CENTS, version=0
        )
    return PurchasingPolicyView(
        library=library, second_approver_above_cents=row.second_approver_above_cents, version=row.version
    )


async def get_purchasing_policy(work: UnitOfWork, actor: Actor, query: GetPurchasingPolicy) -> PurchasingPolicyView:
    check_may_read_purchasing(actor)
    async with work.read() as session:
        municipality = await store.known.library_municipality(session, query.library)
        check_may_read_library(actor, query.library, municipality, what=f"library {query.library}")
        return await load_policy(session, query.library)
