"""A partner's feed: its entries after a position, and how to read it over NATS."""

from __future__ import annotations

import sqlalchemy as sa

from services.partners import domain, store
from services.partners.channels import NatsFeeds
from services.partners.queries.views import feed_entry_view
from shared.contracts.partners.api.feeds import FeedPage, GetFeed, GetNatsFeedAccess, NatsFeedAccess
from shared.errors import NotFound
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


async def get_feed(work: UnitOfWork, actor: Actor, query: GetFeed) -> FeedPage:
    domain.check_may_read_feed(actor, query.partner_id)
    entries = store.feed_entries
    async with work.read() as session:
        if await store.find_partner(session, query.partner_id) is None:
            raise NotFound(f"partner {query.partner_id} not found")
        rows = (
            await session.execute(
                sa.select(*(c for c in entries.c if c.name != "written_by"))
                .where(
                    entries.c.partner_id == query.partner_id,
                    entries.c.position > query.after,
                    # An entry that committed before an older one would let `after` pass the older one for good.
                    store.settled(entries.c.written_by),
                )
                .order_by(entries.c.position)
                .limit(query.limit)
            )
        ).all()
    items = [feed_entry_view(r) for r in rows]
    return FeedPage(items=items, next_after=items[-1].position if items else query.after)


async def nats_feed_access(work: UnitOfWork, nats: NatsFeeds, actor: Actor, query: GetNatsFeedAccess) -> NatsFeedAccess:
    # No secret in it, but it names the partner's consumer: the feed's own readers only, like the HTTP feed.
    domain.check_may_read_feed(actor, query.partner_id)
    async with work.read() as session:
        partner = await store.find_partner(session, query.partner_id)
    if partner is None:
        raise NotFound(f"partner {query.partner_id} not found")
    return nats.access(partner.id)
