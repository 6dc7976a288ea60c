"""Read models of the partners service for the gateway."""

from __future__ import annotations

import sqlalchemy as sa

from services.partners import domain, store
from shared.contracts.partners import (
    FeedEntryView,
    FeedPage,
    GetFeed,
    GetPartner,
    ListPartners,
    PartnerKind,
    PartnerList,
    PartnerView,
)
from shared.errors import NotFound
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork


def partner_view(row: sa.Row) -> PartnerView:
    return PartnerView(
        id=row.id,
        name=row.name,
        kind=PartnerKind(row.kind),
        municipality=row.municipality,
        chamber_of_commerce_number=row.chamber_of_commerce_number,
        registered_at=row.registered_at,
    )


async def get_partner(work: UnitOfWork, actor: Actor, query: GetPartner) -> PartnerView:
    async with work.read() as session:
        row = await store.find_partner(session, query.partner_id)
    if row is None:
        raise NotFound(f"partner {query.partner_id} not found")
    domain.check_may_read_partner(actor, row.id, row.municipality)
    return partner_view(row)


async def list_partners(work: UnitOfWork, actor: Actor, query: ListPartners) -> PartnerList:
    statement = sa.select(store.partners).order_by(store.partners.c.name, store.partners.c.id)
    if actor.role is Role.PARTNER:
        statement = statement.where(store.partners.c.id == actor.partner)
    elif actor.role is not Role.OPERATOR:
        statement = statement.where(store.partners.c.municipality == actor.municipality)
    if query.kind is not None:
        statement = statement.where(store.partners.c.kind == query.kind.value)
    async with work.read() as session:
        rows = (await session.execute(statement)).all()
    return PartnerList(items=[partner_view(row) for row in rows])


async def get_feed(work: UnitOfWork, actor: Actor, query: GetFeed) -> FeedPage:
    domain.check_may_read_feed(actor, query.partner_id)
    entries = store.feed_entries
    async with work.read() as session:
        if await store.find_partner(session, query.partner_id) is None:
            raise NotFound(f"partner {query.partner_id} not found")
        rows = (
            await session.execute(
                sa.select(entries)
                .where(entries.c.partner_id == query.partner_id, entries.c.position > query.after)
                .order_by(entries.c.position)
                .limit(query.limit)
            )
        ).all()
    items = [
        FeedEntryView(
            position=r.position, event_id=r.event_id, type=r.event_type, time=r.time, library=r.library, data=r.data
        )
        for r in rows
    ]
    return FeedPage(items=items, next_after=items[-1].position if items else query.after)
