"""A partner's webhooks and their delivery log, for the partner itself."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.partners import store
from services.partners.domain.access import check_may_manage_subscriptions
from services.partners.queries.views import delivery_view, webhook_view
from shared.contracts.partners.api.feeds import (
    DeliveryRef,
    DeliveryView,
    ListDeliveries,
    ListWebhooks,
    WebhookRef,
    WebhookView,
)
from shared.errors import NotFound
from shared.pagination import Page, keyset_page
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork

W = store.webhooks
D = store.deliveries
A = store.delivery_attempts


async def get_webhook(work: UnitOfWork, actor: Actor, query: WebhookRef) -> WebhookView:
    check_may_manage_subscriptions(actor, query.partner_id)
    async with work.read() as session:
        row = await store.find_webhook(session, query.partner_id, query.webhook_id)
    if row is None:
        raise NotFound(f"webhook {query.webhook_id} not found")
    return webhook_view(row)


async def list_webhooks(work: UnitOfWork, actor: Actor, query: ListWebhooks) -> Page[WebhookView]:
    check_may_manage_subscriptions(actor, query.partner_id)
    conditions: list[Any] = [W.c.partner_id == query.partner_id, W.c.deleted_at.is_(None)]
    async with work.read() as session:
        if await store.find_partner(session, query.partner_id) is None:
            raise NotFound(f"partner {query.partner_id} not found")
        shown, next_cursor = await keyset_page(
            session, sa.select(W).where(*conditions), [W.c.created_at, W.c.id], query.cursor, query.limit
        )
    return Page(items=[webhook_view(r) for r in shown], next_cursor=next_cursor)


async def list_deliveries(work: UnitOfWork, actor: Actor, query: ListDeliveries) -> Page[DeliveryView]:
    """Newest first: what happened lately is what a partner looks for."""
    check_may_manage_subscriptions(actor, query.partner_id)
    conditions: list[Any] = [D.c.webhook_id == query.webhook_id, D.c.partner_id == query.partner_id]
    if query.status is not None:
        conditions.append(D.c.status == query.status.value)
    async with work.read() as session:
        if await store.find_webhook(session, query.partner_id, query.webhook_id) is None:
            raise NotFound(f"webhook {query.webhook_id} not found")
        shown, next_cursor = await keyset_page(
            session,
            sa.select(D).where(*conditions),
            [D.c.created_at, D.c.id],
            query.cursor,
            query.limit,
            descending=True,
        )
    return Page(items=[delivery_view(r) for r in shown], next_cursor=next_cursor)


async def get_delivery(work: UnitOfWork, actor: Actor, query: DeliveryRef) -> DeliveryView:
    check_may_manage_subscriptions(actor, query.partner_id)
    async with work.read() as session:
        row = (
            await session.execute(
                sa.select(D).where(
                    D.c.id == query.delivery_id, D.c.webhook_id == query.webhook_id, D.c.partner_id == query.partner_id
                )
            )
        ).first()
        if row is None:
            raise NotFound(f"delivery {query.delivery_id} not found")
        attempts = (await session.execute(sa.select(A).where(A.c.delivery_id == row.id).order_by(A.c.id))).all()
    return delivery_view(row, attempts)
