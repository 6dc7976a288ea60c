"""A partner that pages its feed by position must not miss an entry that committed after a later one.

Two replicas of the feed consumer write entries in their own transactions; an entry's position comes from a
sequence when it is inserted, so entries can commit out of position order. The benchmark saw it happen under
load (`feed entries a position cursor skips`); this test makes it happen deterministically, and the feed
holds back entries until every older writer has finished.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import asyncpg

from tests.faults.stack import plain
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant

INSERT = (
    "INSERT INTO partners.feed_entries (partner_id, event_id, event_type, time, library, data, published_at)"
    " VALUES ($1, $2, 'nl.partnernet.referral.submitted.v1', $3, $4, $5::jsonb, $3) RETURNING position"
)


async def read_feed(platform: RunningPlatform, tenant: Tenant, after: int) -> tuple[list[str], int]:
    async with platform.client(tenant.partner_a_token) as api:
        page = (await api.get(f"/api/v1/partners/{tenant.partner_a}/feed", params={"after": after})).json()
    return [item["event_id"] for item in page["items"]], page["next_after"]


async def test_a_partner_paging_its_feed_sees_an_entry_that_committed_late(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    dsn = plain(platform.settings.database_url)
    slow, fast = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    late, early = uuid.uuid4(), uuid.uuid4()
    partner, now, data = uuid.UUID(tenant.partner_a), datetime.now(UTC), json.dumps({"note": "fault test"})
    try:
        transaction = slow.transaction()
        await transaction.start()
        late_position = await slow.fetchval(INSERT, partner, late, now, tenant.library_a, data)
        early_position = await fast.fetchval(INSERT, partner, early, now, tenant.library_a, data)
        assert late_position < early_position
        seen, after = await read_feed(platform, tenant, 0)  # the partner polls while the first is uncommitted
        await transaction.commit()
        more, _ = await read_feed(platform, tenant, after)
        seen += more
    finally:
        await slow.close()
        await fast.close()
    print(f"[fault] feed paged by position: sent=2 delivered={len(set(seen) & {str(late), str(early)})}")
    assert str(early) in seen
    assert str(late) in seen, "the entry that committed late was skipped by the reader's cursor"


async def test_a_partner_paging_its_feed_sees_an_entry_of_a_writer_with_a_younger_transaction_id(
    platform: RunningPlatform, tenant: Tenant
) -> None:
    """A writer takes its transaction id at its first write and its position later: the one with the younger id can
    take the earlier position and commit last (partners' migrations 016, 017)."""
    dsn = plain(platform.settings.database_url)
    older, younger = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    earlier_id, later_id = uuid.uuid4(), uuid.uuid4()
    partner, now, data = uuid.UUID(tenant.partner_a), datetime.now(UTC), json.dumps({"note": "fault test"})
    try:
        first, second = older.transaction(), younger.transaction()
        await first.start()
        await older.fetchval("SELECT pg_current_xact_id()")  # its id first, as a consumer's inbox row takes it
        await second.start()
        earlier = await younger.fetchval(INSERT, partner, earlier_id, now, tenant.library_a, data)
        later = await older.fetchval(INSERT, partner, later_id, now, tenant.library_a, data)
        await first.commit()
        assert earlier < later
        seen, after = await read_feed(platform, tenant, 0)  # the partner polls while the earlier is uncommitted
        await second.commit()
        more, _ = await read_feed(platform, tenant, after)
        seen += more
    finally:
        await older.close()
        await younger.close()
    delivered = len(set(seen) & {str(earlier_id), str(later_id)})
    print(f"[fault] feed paged by position, younger id first: sent=2 delivered={delivered}")
    assert str(later_id) in seen
    assert str(earlier_id) in seen, "the entry of the writer with the younger id was skipped by the reader's cursor"
