"""The overview's parts in the courses, volunteers and partners services reach their tables through indexes
(issue 25), as tests/services/referrals/test_query_plans.py shows for the referrals service at volume.

Each part is one prepared statement per scope shape on the service's direct connections (store/figures.py in each
service). What they send while a coordinator, a library's staff and an operator (one municipality, one library;
the whole platform is every row of every table) open the overview is recorded and EXPLAINed, with its parameters
and as the generic plan a kept prepared statement may switch to, with sequential scans and the hash and merge joins
that want them priced out (`enable_seqscan`, `enable_hashjoin`, `enable_mergejoin` off). This platform's tables are
small, so the planner's own choice proves nothing here, but a table read whole even then has no index that serves
the statement: a sequential scan, or an index scan without a condition, of a table that grows with the years fails
the test. Which of two indexes that serve a table the planner takes at volume is not seen: with a few rows it may
take one whose first column the statement does not constrain.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from services.courses.store import figures as courses
from services.partners.store import figures as partners
from services.volunteers.store import figures as volunteers
from shared.tenancy import Role
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.tenants import Tenant
from tests.services.referrals.test_query_plans import Direct, recorded_direct

# Tables that grow with the platform's use (one row a library, a partner's budget year or the like does not).
GROWING = {
    "courses": {
        "courses",
        "sessions",
        "enrolments",
        "education_requests",
        "purchases",
        "purchase_quotes",
        "known_referrals",
    },
    "volunteers": {"volunteers", "vacancies", "training_sessions", "attendance", "internships", "hours"},
    "partners": {"partners", "partnerships"},
}


def nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for child in plan.get("Plans", []) for n in nodes(child))]


def whole_reads(plan: dict[str, Any], growing: set[str]) -> list[str]:
    """Sequential scans of a growing table, and index scans of one without any condition (the whole index)."""
    found = []
    for node in nodes(plan):
        relation = node.get("Relation Name", "")
        if relation not in growing:
            continue
        if node["Node Type"] == "Seq Scan":
            found.append(f"Seq Scan of {relation}")
        elif "Index Name" in node and "Index Cond" not in node:
            found.append(f"{node['Node Type']} of {relation} without a condition")
    return found


async def whole_table_reads(dsn: str, statements: list[Direct]) -> list[str]:
    found = []
    for schema, statement, arguments in statements:
        connection = await asyncpg.connect(dsn, server_settings={"search_path": schema, "TimeZone": "UTC"})
        try:
            # Whole reads and the joins that take them priced out: what is left reaches every table by an index.
            await connection.execute("SET enable_seqscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off")
            for mode in ("force_custom_plan", "force_generic_plan"):
                await connection.execute(f"SET plan_cache_mode = {mode}")
                plan = await (await connection.prepare(f"EXPLAIN (FORMAT JSON) {statement}")).fetchval(*arguments)
                plan = json.loads(plan) if isinstance(plan, str) else plan
                found += [
                    f"{schema}, {mode}: {read} in {' '.join(statement.split())[:160]}"
                    for read in whole_reads(plan[0]["Plan"], GROWING[schema])
                ]
        finally:
            await connection.close()
    return found


async def test_the_overviews_other_parts_read_through_indexes(
    platform: RunningPlatform, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    operator = platform.token(Role.OPERATOR)
    asked: list[tuple[str, dict[str, str]]] = [
        (tenant.coordinator, {}),
        (tenant.coordinator, {"library": tenant.library_a}),
        (tenant.staff_a, {}),
        (operator, {"municipality": tenant.municipality}),
        (operator, {"municipality": tenant.municipality, "library": tenant.library_a}),
    ]
    with recorded_direct(monkeypatch) as direct_sql:
        for token, params in asked:
            async with platform.client(token) as api:
                overview = await api.get("/api/v1/overview", params=params)
                assert overview.status_code == 200, overview.text
                assert overview.json()["complete"] is True, overview.json()["missing"]

    # Each part went over its service's direct connections: partners once, courses and volunteers twice (their
    # figures and the partners' acts) per overview. (Only the figures' statements: anything else a service may
    # send on those connections meanwhile is not counted.)
    figures = {
        "courses": {p.sql for p in (*courses.STATISTICS.values(), *courses.PARTNER_ACTS.values())},
        "volunteers": {p.sql for p in (*volunteers.STATISTICS.values(), *volunteers.PARTNER_ACTS.values())},
        "partners": {p.sql for p in partners.STATISTICS.values()},
    }
    mine = [statement for statement in direct_sql if statement[1] in figures.get(statement[0], set())]
    assert {schema: sum(s == schema for s, _, _ in mine) for schema in GROWING} == {
        "courses": 2 * len(asked),
        "volunteers": 2 * len(asked),
        "partners": len(asked),
    }
    dsn = platform.settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    found = await whole_table_reads(dsn, mine)
    assert found == [], "\n".join(sorted(set(found)))
