"""The delivery worker's claim (services/partners/store/subscriptions.py DELIVERIES_CLAIM) reads about what it
claims, whatever the due backlog: with 10,000 due deliveries of one webhook (a replay) it reads no more rows of
`deliveries` than with none, through the per-webhook indexes of partners migration 019, both with its parameters
and as the generic plan a prepared statement gets after a few runs; and it still claims each webhook's free places
only (IN_FLIGHT_PER_WEBHOOK, leases counted), oldest due first. On a partners schema of the test's own
(tests/services/partners/test_feed_batch.py's), each case in a transaction rolled back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.partners.commands.webhooks import CLAIM_BATCH, IN_FLIGHT_PER_WEBHOOK
from services.partners.store.subscriptions import DELIVERIES_CLAIM
from tests.services.partners.test_feed_batch import HOOK, B, engine
from tests.services.partners.test_feed_held_back import connect

__all__ = ["engine"]  # the fixture: a partners schema with partners and one webhook (HOOK, partner B's)

NOW = datetime.now(UTC)
LEASE = NOW + timedelta(minutes=1)
IN_FLIGHT = 3  # HOOK's deliveries a worker is trying (lease running)
OTHERS = 5  # webhooks with two due deliveries each
HISTORY = 20_000  # delivered deliveries (not yet pruned): `deliveries` is a large table, rightly read by its indexes
# Rows of `deliveries` the claim may read: per webhook with pending rows a probe for the next, its leased rows and
# the head of its due rows, then a look-up of each candidate and of each claimed row. Not the backlog.
READ_AT_MOST = (1 + OTHERS) * (1 + IN_FLIGHT + IN_FLIGHT_PER_WEBHOOK) + 3 * (1 + OTHERS) * IN_FLIGHT_PER_WEBHOOK


async def seeded(connection: asyncpg.Connection, due: int) -> list[uuid.UUID]:
    """HOOK with IN_FLIGHT leased deliveries and `due` due ones (the oldest first), OTHERS webhooks with two due each,
    every webhook with a retry not due yet, and HOOK's delivered history; the other webhooks' ids."""
    others = [uuid.uuid4() for _ in range(OTHERS)]
    for other in others:
        await connection.execute(
            "INSERT INTO webhooks (id, partner_id, url, event_types, status, secret, version, created_at, updated_at)"
            " VALUES ($1, $2, 'https://b.example/other', '[]', 'active', 's', 1, now(), now())",
            other,
            B,
        )

    async def deliveries(webhook: uuid.UUID, count: int, status: str, next_attempt: Any, lease: Any) -> None:
        await connection.execute(
            "WITH entries AS ("
            " INSERT INTO feed_entries (partner_id, event_id, event_type, time, data)"
            " SELECT $2, gen_random_uuid(), 'referral.accepted', $5, '{}' FROM generate_series(1, $3::int)"
            " RETURNING position)"
            " INSERT INTO deliveries (id, webhook_id, partner_id, feed_position, event_id, event_type, status,"
            " attempts, next_attempt_at, lease_until, created_at)"
            " SELECT gen_random_uuid(), $1, $2, position, gen_random_uuid(), 'referral.accepted', $4,"
            " 1, $5::timestamptz - (position || ' milliseconds')::interval, $6, $5 FROM entries",
            webhook,
            B,
            count,
            status,
            next_attempt,
            lease,
        )

    for webhook, due_now in [(HOOK, due), *((other, 2) for other in others)]:
        await deliveries(webhook, due_now, "pending", NOW - timedelta(minutes=5), None)
        await deliveries(webhook, 1, "pending", NOW + timedelta(hours=1), None)
    await deliveries(HOOK, IN_FLIGHT, "pending", NOW - timedelta(minutes=10), LEASE)
    await deliveries(HOOK, HISTORY, "delivered", NOW - timedelta(days=1), None)
    await connection.execute("ANALYZE deliveries")
    return others


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def deliveries_read(plan: dict[str, Any]) -> tuple[int, set[str]]:
    """Rows of `deliveries` the plan's scans returned or filtered out, and how they read it: its indexes (a bitmap
    scan's among them), or a sequential scan."""
    read, ways = 0, set()
    for node in nodes(plan):
        if node.get("Relation Name") == "deliveries" and "Scan" in node["Node Type"]:
            read += round((node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"])
            if node["Node Type"] == "Seq Scan":
                ways.add("Seq Scan")
        if node.get("Index Name", "").startswith("deliveries_"):
            ways.add(node["Index Name"])
    return read, ways


@pytest.mark.parametrize("due", [0, 10_000])
@pytest.mark.parametrize("plan_cache_mode", ["force_custom_plan", "force_generic_plan"])
async def test_the_claim_reads_what_it_claims_not_the_due_backlog(
    engine: AsyncEngine, due: int, plan_cache_mode: str
) -> None:
    connection = await connect(engine)
    transaction = connection.transaction()
    await transaction.start()
    try:
        others = await seeded(connection, due)
        oldest = await connection.fetch(
            "SELECT id FROM deliveries WHERE webhook_id = $1 AND status = 'pending' AND lease_until IS NULL"
            " AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3",
            HOOK,
            NOW,
            IN_FLIGHT_PER_WEBHOOK - IN_FLIGHT,
        )
        await connection.execute(f"SET LOCAL plan_cache_mode = {plan_cache_mode}")
        arguments = (NOW, CLAIM_BATCH, LEASE, IN_FLIGHT_PER_WEBHOOK)
        explaining = connection.transaction()  # EXPLAIN ANALYZE claims too: its leases go with this savepoint
        await explaining.start()
        explained = await connection.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {DELIVERIES_CLAIM}", *arguments)
        await explaining.rollback()
        claimed = await connection.fetch(DELIVERIES_CLAIM, *arguments)
    finally:
        await transaction.rollback()
        await connection.close()

    read, ways = deliveries_read(json.loads(explained)[0]["Plan"])
    assert read <= READ_AT_MOST, f"{read} rows of deliveries read at a due backlog of {due}: {ways} {explained}"
    assert ways <= {"deliveries_due_by_webhook", "deliveries_leased_by_webhook", "deliveries_pkey"}, ways
    # HOOK's free places, its oldest due deliveries first; two of each other webhook.
    assert {row["id"] for row in claimed if row["webhook_id"] == HOOK} == {row["id"] for row in oldest}
    assert len(oldest) == (IN_FLIGHT_PER_WEBHOOK - IN_FLIGHT if due else 0)
    assert sorted(row["webhook_id"] for row in claimed if row["webhook_id"] != HOOK) == sorted(others * 2)
