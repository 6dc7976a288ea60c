"""The SQL of purchasing's tables (in `store.metadata`): a purchase and its history, quotes, approvals,
invitations, invoices above the approved amount and their approvals, the budget figures they move; and a library's
budgets, budget holders (with their history) and second-approver threshold."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses.store import (
    budget_holder_history,
    budget_holders,
    budgets,
    invoice_approvals,
    purchase_approvals,
    purchase_history,
    purchase_invitations,
    purchase_invoices,
    purchase_quotes,
    purchases,
    purchasing_policies,
)

# An invoice above the approved amount waits for budget holders, who approve or refuse its difference.
INVOICE_WAITING, INVOICE_APPROVED, INVOICE_REFUSED = "awaiting_approval", "approved", "refused"


async def add_purchase(session: AsyncSession, **values: Any) -> None:
    await session.execute(purchases.insert().values(**values))


async def update_purchase(session: AsyncSession, purchase_id: UUID, **values: Any) -> None:
    await session.execute(purchases.update().where(purchases.c.id == purchase_id).values(**values))


async def add_history(
    session: AsyncSession, purchase_id: UUID, *, status: str, at: datetime, actor: str, note: str | None
) -> None:
    await session.execute(
        purchase_history.insert().values(purchase_id=purchase_id, status=status, at=at, actor=actor, note=note)
    )


async def save_budget_figures(session: AsyncSession, library: str, year: int, *, committed: int, spent: int) -> None:
    await session.execute(
        budgets.update()
        .where(budgets.c.library == library, budgets.c.year == year)
        .values(committed_cents=committed, spent_cents=spent)
    )


async def find_quote(session: AsyncSession, purchase_id: UUID, quote_id: UUID) -> sa.Row | None:
    q = purchase_quotes
    return (await session.execute(sa.select(q).where(q.c.id == quote_id, q.c.purchase_id == purchase_id))).first()


async def add_quote(session: AsyncSession, **values: Any) -> None:
    await session.execute(purchase_quotes.insert().values(**values))


async def add_invitation(
    session: AsyncSession, purchase_id: UUID, partner_id: UUID, *, invited_by: str, invited_at: datetime
) -> bool:
    """False when the partner was invited to this purchase already."""
    i = purchase_invitations
    added = await session.execute(
        insert(i)
        .values(purchase_id=purchase_id, partner_id=partner_id, invited_by=invited_by, invited_at=invited_at)
        .on_conflict_do_nothing()
        .returning(i.c.partner_id)
    )
    return added.first() is not None


async def approvers_of(session: AsyncSession, purchase_id: UUID) -> list[str]:
    a = purchase_approvals
    return list((await session.execute(sa.select(a.c.approver).where(a.c.purchase_id == purchase_id))).scalars())


async def add_approval(session: AsyncSession, **values: Any) -> None:
    await session.execute(purchase_approvals.insert().values(**values))


async def add_invoice(session: AsyncSession, **values: Any) -> None:
    await session.execute(purchase_invoices.insert().values(status=INVOICE_WAITING, **values))


async def waiting_invoice(session: AsyncSession, purchase_id: UUID) -> sa.Row | None:
    """The purchase's invoice awaiting approval of its difference, locked."""
    i = purchase_invoices
    statement = sa.select(i).where(i.c.purchase_id == purchase_id, i.c.status == INVOICE_WAITING).with_for_update()
    return (await session.execute(statement)).first()


async def decide_invoice(
    session: AsyncSession, invoice_id: UUID, *, approved: bool, at: datetime, note: str | None
) -> None:
    i = purchase_invoices
    status = INVOICE_APPROVED if approved else INVOICE_REFUSED
    await session.execute(
        i.update().where(i.c.id == invoice_id).values(status=status, decided_at=at, decision_note=note)
    )


async def invoice_approvers(session: AsyncSession, invoice_id: UUID) -> list[str]:
    a = invoice_approvals
    return list((await session.execute(sa.select(a.c.approver).where(a.c.invoice_id == invoice_id))).scalars())


async def add_invoice_approval(session: AsyncSession, **values: Any) -> None:
    await session.execute(invoice_approvals.insert().values(**values))


# --- a library's budgets, its budget holders and its second-approver threshold


async def save_budget_amount(
    session: AsyncSession, library: str, year: int, *, municipality: str, amount: int, version: int, at: datetime
) -> None:
    """The budget's amount (a new version); what is committed and spent stays."""
    b = budgets
    await session.execute(
        insert(b)
        .values(
            library=library, year=year, municipality=municipality, amount_cents=amount, version=version, updated_at=at
        )
        .on_conflict_do_update(
            index_elements=[b.c.library, b.c.year],
            set_={"amount_cents": amount, "version": version, "updated_at": at},
        )
    )


async def add_holder(session: AsyncSession, library: str, subject: str, **values: Any) -> bool:
    """False when the subject is a budget holder of the library already."""
    h = budget_holders
    added = await session.execute(
        insert(h).values(library=library, subject=subject, **values).on_conflict_do_nothing().returning(h.c.subject)
    )
    return added.first() is not None


async def remove_holder(session: AsyncSession, library: str, subject: str) -> None:
    h = budget_holders
    await session.execute(h.delete().where(h.c.library == library, h.c.subject == subject))


async def add_holder_change(session: AsyncSession, **values: Any) -> None:
    await session.execute(budget_holder_history.insert().values(**values))


async def lock_policy(session: AsyncSession, library: str) -> sa.Row | None:
    pp = purchasing_policies
    return (await session.execute(sa.select(pp).where(pp.c.library == library).with_for_update())).first()


async def save_policy(session: AsyncSession, library: str, municipality: str, **values: Any) -> None:
    pp = purchasing_policies
    await session.execute(
        insert(pp)
        .values(library=library, municipality=municipality, **values)
        .on_conflict_do_update(index_elements=[pp.c.library], set_=values)
    )
