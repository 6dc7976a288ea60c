"""Tables of the libraries' training needs and of the purchases drafted from them (in `store.metadata`,
migration 002), and their queries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses import store
from services.courses.store import Time, Uuid
from services.courses.store import purchasing as purchasing_store
from shared.contracts.courses.api.purchasing import PurchaseStatus

training_needs = sa.Table(
    "training_needs",
    store.metadata,
    sa.Column("id", Uuid, primary_key=True),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("municipality", sa.Text, nullable=False),
    sa.Column("qualification", sa.Text, nullable=False),
    sa.Column("volunteers", sa.Integer, nullable=False),
    sa.Column("expiring", sa.Integer, nullable=False),
    sa.Column("refused", sa.Integer, nullable=False),
    sa.Column("needed_by", sa.Date, nullable=False),
    sa.Column("validity_months", sa.Integer),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("met", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("purchase_id", Uuid, sa.ForeignKey("purchases.id")),
    sa.Column("updated_at", Time, nullable=False),
    sa.Index("training_needs_by_purchase", "purchase_id"),
    sa.Index("training_needs_by_library", "library", "qualification"),
)

generated_purchases = sa.Table(
    "generated_purchases",
    store.metadata,
    sa.Column("purchase_id", Uuid, sa.ForeignKey("purchases.id"), primary_key=True),
    sa.Column("library", sa.Text, nullable=False),
    sa.Column("generated_at", Time, nullable=False),
    sa.Index("generated_purchases_by_library", "library"),
)


async def lock_need(session: AsyncSession, need_id: UUID) -> sa.Row | None:
    n = training_needs
    return (await session.execute(sa.select(n).where(n.c.id == need_id).with_for_update())).first()


async def save_need(session: AsyncSession, **values: Any) -> None:
    statement = insert(training_needs).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"], set_={name: statement.excluded[name] for name in values if name != "id"}
        )
    )


async def update_need(session: AsyncSession, need_id: UUID, **values: Any) -> None:
    n = training_needs
    await session.execute(n.update().where(n.c.id == need_id).values(**values))


async def link(session: AsyncSession, need_id: UUID, purchase_id: UUID | None) -> None:
    n = training_needs
    await session.execute(n.update().where(n.c.id == need_id).values(purchase_id=purchase_id))


async def needs_of(session: AsyncSession, purchase_ids: list[UUID]) -> list[sa.Row]:
    if not purchase_ids:
        return []
    n = training_needs
    statement = sa.select(n).where(n.c.purchase_id.in_(purchase_ids)).order_by(n.c.qualification, n.c.id)
    return list((await session.execute(statement)).all())


async def open_draft(session: AsyncSession, library: str) -> sa.Row | None:
    """The library's drafted purchase nobody has taken further yet (still `requested`), locked."""
    p, g = purchasing_store.purchases, generated_purchases
    statement = (
        sa.select(p)
        .join(g, g.c.purchase_id == p.c.id)
        .where(g.c.library == library, p.c.status == PurchaseStatus.REQUESTED.value)
        .order_by(p.c.requested_at.desc(), p.c.id.desc())
        .limit(1)
        .with_for_update(of=p)
    )
    return (await session.execute(statement)).first()


async def mark_generated(session: AsyncSession, purchase_id: UUID, library: str, at: Any) -> None:
    await session.execute(
        generated_purchases.insert().values(purchase_id=purchase_id, library=library, generated_at=at)
    )


async def generated_among(session: AsyncSession, purchase_ids: list[UUID]) -> set[UUID]:
    if not purchase_ids:
        return set()
    g = generated_purchases
    return set((await session.execute(sa.select(g.c.purchase_id).where(g.c.purchase_id.in_(purchase_ids)))).scalars())


async def lock_library_drafts(session: AsyncSession, library: str) -> None:
    """One draft per library, even with needs arriving on several replicas at once (until the transaction ends)."""
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"training-draft:{library}"))))
