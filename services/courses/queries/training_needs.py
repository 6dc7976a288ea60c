"""Purchases as before (queries/purchasing.py decides who sees which), and for a draft made from training needs
also the needs it answers and the budget check with its numbers, as they stand now."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from services.courses.domain import training_needs as rules
from services.courses.queries import purchasing
from services.courses.store import training_needs as needs
from shared.contracts.courses.api.purchasing import (
    GetPurchase,
    ListPurchases,
    PurchaseStatus,
    PurchaseTrainingNeed,
    PurchaseView,
)
from shared.pagination import Page
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

C = TypeVar("C")

# The budget check compares the cheapest quote (or the estimate) with what the budget has left, until approval.
BEFORE_APPROVAL = frozenset({PurchaseStatus.REQUESTED, PurchaseStatus.QUOTED, PurchaseStatus.AWAITING_SECOND_APPROVAL})


async def get_purchase(work: UnitOfWork, actor: Actor, query: GetPurchase) -> PurchaseView:
    view = await purchasing.get_purchase(work, actor, query)
    async with work.read() as session:
        return (await with_training_needs(session, [view]))[0]


async def list_purchases(work: UnitOfWork, actor: Actor, query: ListPurchases) -> Page[PurchaseView]:
    page = await purchasing.list_purchases(work, actor, query)
    async with work.read() as session:
        return Page(items=await with_training_needs(session, page.items), next_cursor=page.next_cursor)


def answering_with_training_needs(
    work: UnitOfWork, use_case: Callable[[Actor, C], Awaitable[PurchaseView]]
) -> Callable[[Actor, C], Awaitable[PurchaseView]]:
    """A purchasing step whose answer shows a draft's needs and budget check as the reads do."""

    async def answer(actor: Actor, command: C) -> PurchaseView:
        view = await use_case(actor, command)
        async with work.read() as session:
            return (await with_training_needs(session, [view]))[0]

    return answer


async def with_training_needs(session: AsyncSession, views: list[PurchaseView]) -> list[PurchaseView]:
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
            budget = await purchasing.load_budget(session, view.library, view.budget_year)
            asked = min((quote.amount_cents for quote in view.quotes), default=view.estimated_cost_cents)
            check = rules.budget_check(budget, asked)
        enriched.append(
            msgspec.structs.replace(
                view, generated_from_training_needs=True, training_needs=by_purchase[view.id], budget_check=check
            )
        )
    return enriched
