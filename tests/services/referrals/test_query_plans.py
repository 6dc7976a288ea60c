"""Every query a user waits for reads the large tables through an index, with years of rows in them (issue 25).

The referrals service's and the partners service's SQL is recorded, both what goes through their engines and what
their direct connections send (shared/db.py DirectReads: the statistics, the overview, a referral, the feed),
while a library's staff, a partner and the municipality's coordinator open lists (first and deep pages), a
referral, the access log, statistics, the overview, the annual report and the partner's feed deep in its history,
on a database seeded with the benchmark's copies (benchmarks/volume.py, then ANALYZE). Each recorded statement is then
EXPLAINed with its own parameters, the planner's defaults untouched (`enable_seqscan` on): none may plan a
sequential scan of a large table; nor may the retention sweeps of the feed and of erased referrals' trails. A
direct connection's statement is prepared once and kept, so PostgreSQL may run it with a generic plan after a few
executions: those are EXPLAINed both with their parameters and as the generic plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.volume import seed
from services.partners.store.feed import PRUNE_FEED
from services.referrals.blind_index import BlindIndex
from services.referrals.commands.person import ExactDigests
from services.referrals.store.retention import PRUNE_TRAILS
from shared.db import DirectConnection, Prepared
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.referral_bodies import referral_body
from tests.services.referrals.conftest import vault_of, work_at
from tests.waiting import eventually

VOLUME = 30_000
# The tables the seeding fills (a small table is rightly read whole: the planner's choice there proves nothing).
LARGE = {"referrals", "referral_history", "feed_entries"}


@contextmanager
def recorded(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    sa.event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", record)


Direct = tuple[str, str, list[Any]]  # the connection's schema, the statement, its arguments


@contextmanager
def recorded_direct(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Direct]]:
    """What every service's direct connections send (they bypass the engines' events)."""
    statements: list[Direct] = []

    def recording(method: Any) -> Any:
        async def run(self: DirectConnection, statement: Prepared, **values: Any) -> Any:
            schema = self._connection.get_settings().search_path
            statements.append((schema, statement.sql, statement.arguments(values)))
            return await method(self, statement, **values)

        return run

    with monkeypatch.context() as patched:
        for name in ("fetch", "fetchrow", "execute"):
            patched.setattr(DirectConnection, name, recording(getattr(DirectConnection, name)))
        yield statements


def scans(plan: dict[str, Any]) -> Iterator[tuple[str, str]]:
    yield plan["Node Type"], plan.get("Relation Name", "")
    for child in plan.get("Plans", []):
        yield from scans(child)


async def sequential_scans(engine: AsyncEngine, statements: list[tuple[str, Any]]) -> list[str]:
    found = []
    async with engine.connect() as conn:
        for statement, parameters in statements:
            result = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
            plan = result.scalar_one()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            for node, relation in scans(plan[0]["Plan"]):
                if node == "Seq Scan" and relation in LARGE:
                    found.append(f"{relation} in: {statement[:300]}")
    return found


def large_scans(plan: Any, statement: str) -> list[str]:
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return [
        f"{relation} in: {statement[:300]}"
        for node, relation in scans(plan[0]["Plan"])
        if node == "Seq Scan" and relation in LARGE
    ]


def indexes_of(plan: Any) -> set[str]:
    """The indexes a plan reads; a sequential scan of a large table counts as its table's name."""
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def read(node: dict[str, Any]) -> Iterator[str]:
        if "Index Name" in node:
            yield node["Index Name"]
        elif node["Node Type"] == "Seq Scan" and node.get("Relation Name") in LARGE:
            yield node["Relation Name"]
        for child in node.get("Plans", []):
            yield from read(child)

    return set(read(plan[0]["Plan"]))


async def indexes_read(engine: AsyncEngine, recorded_statement: tuple[str, Any]) -> set[str]:
    statement, parameters = recorded_statement
    async with engine.connect() as conn:
        return indexes_of((await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)).scalar_one())


async def direct_plans(dsn: str, direct: Direct) -> dict[str, Any]:
    """A direct connection's statement EXPLAINed with its parameters and as the generic plan."""
    schema, statement, arguments = direct
    connection = await asyncpg.connect(dsn, server_settings={"search_path": schema, "TimeZone": "UTC"})
    plans = {}
    try:
        for mode in ("force_custom_plan", "force_generic_plan"):
            await connection.execute(f"SET plan_cache_mode = {mode}")
            # Prepared, as asyncpg runs it on the service's connection; the parameters' types come from it.
            plans[mode] = await (await connection.prepare(f"EXPLAIN (FORMAT JSON) {statement}")).fetchval(*arguments)
    finally:
        await connection.close()
    return plans


async def direct_sequential_scans(dsn: str, statements: list[Direct]) -> list[str]:
    found = []
    for direct in statements:
        for mode, plan in (await direct_plans(dsn, direct)).items():
            found += [f"{mode}: {scan}" for scan in large_scans(plan, direct[1])]
    return found


async def test_user_facing_queries_use_indexes_at_volume(
    platform: RunningPlatform, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with platform.client(tenant.partner_a_token) as api:
        submitted = await api.post("/api/v1/referrals", json=referral_body(tenant.library_a, tenant.partner_a))
        assert submitted.status_code == 201, submitted.text
    referral_id = submitted.json()["id"]

    async def in_feed() -> bool | None:
        async with platform.client(tenant.partner_a_token) as api:
            return bool((await api.get(f"/api/v1/partners/{tenant.partner_a}/feed")).json()["items"]) or None

    await eventually(in_feed, what="the referral in the partner's feed")
    dsn = platform.settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    seeded = await seed(dsn, VOLUME, library=tenant.library_a, plumbing=False, log=lambda _: None)
    assert seeded["rows"]["referrals.referrals"] > VOLUME
    assert seeded["rows"]["partners.feed_entries"] > VOLUME  # the partner's feed has years of entries
    # Each copy has its exact digest, as submission writes it: the referrals service's backfill (ExactDigests) has
    # nothing to unseal after a seeding, so what is measured afterwards is a settled platform.
    db = await asyncpg.connect(dsn)
    try:
        undigested = await db.fetchval(
            "SELECT count(*) FROM referrals.referrals r WHERE r.participant_sealed IS NOT NULL"
            " AND r.participant_pseudonym LIKE 'P-SEED%'"  # the copies: other tests' referrals may have no birth date
            " AND r.anonymised_at IS NULL AND NOT EXISTS (SELECT 1 FROM referrals.referral_blind_keys b"
            " WHERE b.referral_id = r.id)"
        )
    finally:
        await db.close()
    assert undigested == 0
    # So the exact-digest backfill has nothing due: its run is a probe of its empty partial index (migration 016),
    # where it read every referral holding personal data (1.45 s at 500,000, a hash anti join spilling to disk).
    work, _ = work_at(platform, datetime.now(UTC))
    backfill = ExactDigests(work, vault_of(platform), BlindIndex(platform.settings.blind_index_key))
    with recorded(platform.services["referrals"].engine) as backfill_sql:
        assert await backfill.run() == 0
    assert [await indexes_read(platform.services["referrals"].engine, s) for s in backfill_sql] == [
        {"referrals_exact_digest_due"}
    ]

    referrals_engine = platform.services["referrals"].engine
    partners_engine = platform.services["partners"].engine
    with (
        recorded(referrals_engine) as referral_sql,
        recorded(partners_engine) as partner_sql,
        recorded_direct(monkeypatch) as direct_sql,
    ):
        for token in (tenant.staff_a, tenant.partner_a_token, tenant.coordinator):
            async with platform.client(token) as api:
                page = await api.get("/api/v1/referrals", params={"limit": 50})
                assert page.status_code == 200, page.text
                for _ in range(3):  # deeper in the list
                    cursor = page.json()["next_cursor"]
                    assert cursor, "the seeded list has more pages"
                    page = await api.get("/api/v1/referrals", params={"limit": 50, "cursor": cursor})
                    assert page.status_code == 200, page.text
                assert (await api.get(f"/api/v1/referrals/{referral_id}")).status_code == 200
                assert (await api.get("/api/v1/referrals/statistics")).status_code == 200
                year = {"submitted_from": "2024-01-01", "submitted_until": "2024-12-31"}  # from the months' counters
                assert (await api.get("/api/v1/referrals/statistics", params=year)).status_code == 200
                if token != tenant.partner_a_token:
                    overview = await api.get("/api/v1/overview")
                    assert overview.status_code == 200, overview.text
                    # The annual report: its counts from the months' counters, its intakes found by their year.
                    report = await api.get("/api/v1/reports/annual", params={"year": 2024})
                    assert report.status_code == 200, report.text
        async with platform.client(tenant.staff_a) as api:
            assert (await api.get("/api/v1/referrals/access-log")).status_code == 200
        async with platform.client(tenant.partner_a_token) as api:
            for after in (0, VOLUME // 2, VOLUME * 2):  # the first page, deep in the history, the newest
                feed = await api.get(f"/api/v1/partners/{tenant.partner_a}/feed", params={"after": after})
                assert feed.status_code == 200, feed.text

    assert len(referral_sql) > 5 and partner_sql
    # The lists went over the direct connections too (queries/referral_list.py): a page is a walk of the scope's
    # worklist index that stops after the page, with the caller's values and as the generic plan.
    lists = [d for d in direct_sql if d[0] == "referrals" and "ORDER BY referrals.overdue DESC" in d[1]]
    assert len(lists) == 12, lists  # three callers, four pages each
    for scope_column, index in (("library", "referrals_worklist"), ("municipality", "referrals_municipality_worklist")):
        pages = [d for d in lists if f"WHERE referrals.{scope_column} = $" in d[1]]
        assert len(pages) == 4, (scope_column, lists)
        for listed in pages:
            assert {mode: indexes_of(plan) for mode, plan in (await direct_plans(dsn, listed)).items()} == {
                "force_custom_plan": {index},
                "force_generic_plan": {index},
            }, listed[1]
    # The statistics, the overview, a referral and the feed pages went over the direct connections.
    assert {schema for schema, _, _ in direct_sql} >= {"referrals", "partners"}, direct_sql
    assert any("referral_month_counts" in sql for _, sql, _ in direct_sql)
    assert any("referral_month_counts" in sql for sql, _ in referral_sql), "the annual report's counts"
    assert any("feed_entries" in sql for _, sql, _ in direct_sql)
    found = await sequential_scans(referrals_engine, referral_sql) + await sequential_scans(
        partners_engine, partner_sql
    )
    found += await direct_sequential_scans(dsn, direct_sql)
    # The retention sweeps too: their cost follows what they delete, never the size of the feed or the history.
    sweep = {"before": datetime.now(UTC) - timedelta(days=90), "batch": 1000}  # a batch larger than either uses
    for engine, statement in ((partners_engine, PRUNE_FEED), (referrals_engine, PRUNE_TRAILS)):
        async with engine.connect() as conn:
            plan = (await conn.execute(sa.text(f"EXPLAIN (FORMAT JSON) {statement.text}"), sweep)).scalar_one()
        found += large_scans(plan, statement.text)
    assert found == [], "\n".join(found)
