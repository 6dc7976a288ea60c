"""What every step of a purchase does: load it locked (and check the version), move its status with a line of
history, move the budget's figures, and find or add its quotes."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses.domain import purchasing as domain
from services.courses.domain.purchasing import Budget
from services.courses.queries import purchasing as queries
from services.courses.store import purchasing as purchasing_store
from shared.contracts.courses.api.purchasing import (
    PurchaseStatus,
)
from shared.contracts.courses.events import (
    PurchaseQuoted,
)
from shared.errors import InvalidInput, NotFound
from shared.tenancy import Actor
from shared.unit_of_work import Transaction
from shared.versions import is_stale, version_conflict


async def record_history(
    tx: Transaction, purchase_id: UUID, status: PurchaseStatus, actor: Actor, note: str | None
) -> None:
    await purchasing_store.add_history(
        tx.session, purchase_id, status=status.value, at=tx.clock.now(), actor=actor.subject, note=note
    )


async def load_purchase_to_act(
    tx: Transaction, actor: Actor, purchase_id: UUID, expected_version: int | None
) -> sa.Row:
    """The purchase, locked; out of sight answers like missing, a coordinator's view is not enough to act."""
    row = await purchasing_store.find_purchase(tx.session, purchase_id, for_update=True)
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
    await purchasing_store.update_purchase(
        tx.session, row.id, status=status.value, version=row.version + 1, updated_at=tx.clock.now(), **values
    )
    await record_history(tx, row.id, status, actor, note)


async def save_budget(session: AsyncSession, budget: Budget) -> None:
    """Commitments and spending move the figures, not the version: they are not edits of the budget."""
    await purchasing_store.save_budget_figures(
        session, budget.library, budget.year, committed=budget.committed, spent=budget.spent
    )


async def find_quote(session: AsyncSession, purchase_id: UUID, quote_id: UUID | None) -> sa.Row | None:
    if quote_id is None:
        return None
    return await purchasing_store.find_quote(session, purchase_id, quote_id)


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
    await purchasing_store.add_quote(
        tx.session,
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
