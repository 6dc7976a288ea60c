"""Budgets as the caller may see them (amount, committed, spent, available per library and year), the library's
budget holders and who appointed and removed them, and its second-approver threshold."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses import store
from services.courses.domain.purchasing import (
    DEFAULT_SECOND_APPROVER_ABOVE_CENTS,
    Budget,
    check_may_read_library,
    check_may_read_purchasing,
)
from services.courses.store import purchasing as purchasing_store
from shared.contracts.courses.api.budgets import (
    BudgetHolderChange,
    BudgetHolderView,
    BudgetView,
    GetBudget,
    GetPurchasingPolicy,
    ListBudgetHolderChanges,
    ListBudgetHolders,
    ListBudgets,
    PurchasingPolicyView,
)
from shared.errors import InvalidInput
from shared.pagination import Page, decode_cursor, encode_cursor, keyset_page
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


async def load_budget(session: AsyncSession, library: str, year: int, *, for_update: bool = False) -> Budget:
    b = purchasing_store.budgets
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
    b = purchasing_store.budgets
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
    b = purchasing_store.budgets
    after = decode_cursor(query.cursor)
    statement = sa.select(b).where(store.visible_to(actor, b))
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
    h = purchasing_store.budget_holders
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
    pp = purchasing_store.purchasing_policies
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


async def list_budget_holder_changes(
    work: UnitOfWork, actor: Actor, query: ListBudgetHolderChanges
) -> Page[BudgetHolderChange]:
    """Who appointed and removed the library's budget holders, and when: oldest first."""
    check_may_read_purchasing(actor)
    h = purchasing_store.budget_holder_history
    async with work.read() as session:
        municipality = await store.known.library_municipality(session, query.library)
        check_may_read_library(actor, query.library, municipality, what=f"library {query.library}")
        rows, next_cursor = await keyset_page(
            session, sa.select(h).where(h.c.library == query.library), [h.c.id], query.cursor, query.limit
        )
    return Page(
        items=[
            BudgetHolderChange(
                library=r.library, subject=r.subject, change=r.change, actor=r.actor, actor_role=r.actor_role, at=r.at
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )
