"""Purchasing's tables (in `store.metadata`) and their SQL: a purchase and its history, quotes, approvals,
invitations, invoices above the approved amount and their approvals, the budget figures they move; and a library's
budgets, budget holders (with their history) and second-approver threshold."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses.store import Time, Uuid, metadata
from shared.db import find_row

purchasing_policies = sa.Table(
    "purchasing_policies",
    metadata,
    sa.Column("library", sa.Text, primary_key=True),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column(
        "second_approver_above_cents",
        sa.BigInteger,
        sa.CheckConstraint("second_approver_above_cents >= 0"),
        nullable=False,
    ),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

budget_holders = sa.Table(
    "budget_holders",
    metadata,
    sa.Column("library", sa.Text, primary_key=True),
    sa.Column("subject", sa.Text, primary_key=True),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("appointed_by", sa.Text, nullable=False),
    sa.Column("appointed_at", Time, nullable=False),
)

budgets = sa.Table(
    "budgets",
    metadata,
    sa.Column("library", sa.Text, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("amount_cents", sa.BigInteger, sa.CheckConstraint("amount_cents >= 0"), nullable=False),
    sa.Column(
        "committed_cents", sa.BigInteger, sa.CheckConstraint("committed_cents >= 0"), nullable=False, server_default="0"
    ),
    sa.Column("spent_cents", sa.BigInteger, sa.CheckConstraint("spent_cents >= 0"), nullable=False, server_default="0"),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.CheckConstraint("committed_cents + spent_cents <= amount_cents", name="budgets_not_exceeded"),
)

purchases = sa.Table(
    "purchases",
    metadata,
    sa.Column("id", Uuid, primary_key=True),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("audience", JSONB, nullable=False),
    sa.Column("estimated_cost_cents", sa.BigInteger, sa.CheckConstraint("estimated_cost_cents >= 0"), nullable=False),
    sa.Column("budget_year", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("chosen_quote_id", Uuid),
    sa.Column("approved_amount_cents", sa.BigInteger),
    sa.Column("order_reference", sa.Text),
    sa.Column("sessions_held", sa.Integer),
    sa.Column("participants", sa.Integer),
    sa.Column("delivered_on", sa.Date),
    sa.Column("invoice_amount_cents", sa.BigInteger),
    sa.Column("invoice_reference", sa.Text),
    sa.Column("ordered_at", Time),
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("requested_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("purchases_by_library", "library", "requested_at", "id"),
    sa.Index("purchases_by_municipality", "municipality", "requested_at", "id"),
)

purchase_quotes = sa.Table(
    "purchase_quotes",
    metadata,
    sa.Column("id", Uuid, primary_key=True),
    sa.Column("purchase_id", Uuid, sa.ForeignKey("purchases.id"), nullable=False),
    sa.Column("provider_name", sa.Text, nullable=False),
    sa.Column("provider_partner_id", Uuid),
    sa.Column("amount_cents", sa.BigInteger, sa.CheckConstraint("amount_cents >= 0"), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("valid_until", sa.Date),
    sa.Column("added_by", sa.Text, nullable=False),
    sa.Column("added_at", Time, nullable=False),
    sa.Index("purchase_quotes_by_purchase", "purchase_id", "added_at"),
    sa.Index("purchase_quotes_by_provider", "provider_partner_id", "purchase_id"),
)

purchase_approvals = sa.Table(
    "purchase_approvals",
    metadata,
    sa.Column("purchase_id", Uuid, sa.ForeignKey("purchases.id"), primary_key=True),
    sa.Column("approver", sa.Text, primary_key=True),
    sa.Column("quote_id", Uuid, sa.ForeignKey("purchase_quotes.id"), nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("approved_at", Time, nullable=False),
    sa.Column("note", sa.Text),
)

purchase_history = sa.Table(
    "purchase_history",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("purchase_id", Uuid, sa.ForeignKey("purchases.id"), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Index("purchase_history_by_purchase", "purchase_id", "id"),
)

# An invoice above the approved amount, and the budget holders' approvals of its difference.
purchase_invoices = sa.Table(
    "purchase_invoices",
    metadata,
    sa.Column("id", Uuid, primary_key=True),
    sa.Column("purchase_id", Uuid, sa.ForeignKey("purchases.id"), nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("reference", sa.Text, nullable=False),
    sa.Column("excess_cents", sa.BigInteger, nullable=False),
    sa.Column("approvers_needed", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # awaiting_approval | approved | refused
    sa.Column("recorded_by", sa.Text, nullable=False),
    sa.Column("recorded_at", Time, nullable=False),
    sa.Column("decided_at", Time),
    sa.Column("decision_note", sa.Text),
    sa.Index("purchase_invoices_by_purchase", "purchase_id", "recorded_at"),
)

invoice_approvals = sa.Table(
    "invoice_approvals",
    metadata,
    sa.Column("invoice_id", Uuid, sa.ForeignKey("purchase_invoices.id"), primary_key=True),
    sa.Column("approver", sa.Text, primary_key=True),
    sa.Column("approved_at", Time, nullable=False),
    sa.Column("note", sa.Text),
)

# Partners the library asked for a quote: they submit their own and follow the purchase if chosen.
purchase_invitations = sa.Table(
    "purchase_invitations",
    metadata,
    sa.Column("purchase_id", Uuid, sa.ForeignKey("purchases.id"), primary_key=True),
    sa.Column("partner_id", Uuid, primary_key=True),
    sa.Column("invited_by", sa.Text, nullable=False),
    sa.Column("invited_at", Time, nullable=False),
    sa.Index("purchase_invitations_by_partner", "partner_id", "purchase_id"),
)

budget_holder_history = sa.Table(
    "budget_holder_history",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("change", sa.Text, nullable=False),  # appointed | removed
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("actor_role", sa.Text, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Index("budget_holder_history_by_library", "library", "id"),
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


async def find_purchase(session: AsyncSession, purchase_id: UUID, *, for_update: bool = False) -> sa.Row | None:
    return await find_row(session, purchases, purchase_id, for_update=for_update)


async def find_invitation(session: AsyncSession, purchase_id: UUID, partner_id: UUID) -> sa.Row | None:
    i = purchase_invitations
    return (
        await session.execute(sa.select(i).where(i.c.purchase_id == purchase_id, i.c.partner_id == partner_id))
    ).first()


async def holders_of(session: AsyncSession, library: str, *, for_update: bool = False) -> set[str]:
    """`for_update` locks the holders, so two removals at once cannot leave a library without one."""
    statement = sa.select(budget_holders.c.subject).where(budget_holders.c.library == library)
    if for_update:
        statement = statement.with_for_update()
    return set((await session.execute(statement)).scalars().all())
