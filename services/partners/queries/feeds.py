"""A partner's feed: its entries after a position, and how to read it over NATS."""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa

from services.partners import domain, store
from services.partners.channels import NatsFeeds
from services.partners.queries.views import feed_entry_view
from services.partners.store import feed as feed_store
from shared.contracts.partners.api.feeds import FeedPage, GetFeed, GetNatsFeedAccess, NatsFeedAccess
from shared.errors import Gone, NotFound
from shared.tenancy import Actor
from shared.unit_of_work import UnitOfWork


async def get_feed(work: UnitOfWork, actor: Actor, query: GetFeed) -> FeedPage:
    """The partner's own entries after a position, oldest first: on a direct connection, as the referrals read
    is (the read partner systems poll), the partner's existence, its horizon and the page in one statement.

    A cursor below the horizon would skip the entries pruned after it: refused (410) with the cursor to start
    again from, never moved on silently. One at or above it skips nothing: every pruned entry lies at or below."""
    domain.check_may_read_feed(actor, query.partner_id)
    async with work.direct() as db:
        rows = await feed_store.read_feed_page(db, query.partner_id, query.after, query.limit)
    if not rows:
        raise NotFound(f"partner {query.partner_id} not found")
    horizon = rows[0].pruned_through
    if horizon is not None and query.after < horizon:
        raise Gone(
            f"entries up to position {horizon} are no longer kept (the feed keeps them for its retention period):"
            f" entries after position {query.after} may be among them. Read again from after={horizon}, the"
            " oldest entry kept, and reconcile what you hold with the partnership's current referrals",
            restart_after=horizon,
        )
    items = [feed_entry_view(cast(sa.Row, row)) for row in rows if row.position is not None]
    return FeedPage(items=items, next_after=items[-1].position if items else query.after)


async def nats_feed_access(work: UnitOfWork, nats: NatsFeeds, actor: Actor, query: GetNatsFeedAccess) -> NatsFeedAccess:
    # No secret in it, but it names the partner's consumer: the feed's own readers only, like the HTTP feed.
    domain.check_may_read_feed(actor, query.partner_id)
    async with work.read() as session:
        partner = await store.find_partner(session, query.partner_id)
    if partner is None:
        raise NotFound(f"partner {query.partner_id} not found")
    return nats.access(partner.id)
