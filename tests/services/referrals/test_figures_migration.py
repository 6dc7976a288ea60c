"""Migration 020 on a database that already holds referrals: the all-time figures, which the overview and the
statistics now sum from the counters per month, are what the all-time counters said before it, and the one trigger
that is left keeps them exact through later changes (equal to a rebuild from the referrals)."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import migrate
from tests.services.referrals.earlier_schema import MIGRATIONS, schema_before

BEFORE = "020_figures_from_the_month_counters.sql"
CELL = (
    "municipality, library, referring_partner_id, receiving_partner_id, status, overdue, was_overdue,"
    " course_finished, moved_to_work, further_education, anonymised"
)
NEED_CELL = "municipality, library, referring_partner_id, receiving_partner_id, area"
STATUSES = ("submitted", "accepted", "declined", "completed", "withdrawn")
AREAS = ("reading", "digital", "numeracy", "language")


@pytest.fixture
async def migrated(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """A schema of its own, migrated up to the migration before 020."""
    async with schema_before(database_url, tmp_path, BEFORE, "figures_migration") as migrated:
        yield migrated


async def change_referrals(engine: AsyncEngine, rng: random.Random, count: int) -> None:
    """`count` referrals over several months and parties, then changes of their status, flags, needs, intakes."""
    start = datetime(2025, 10, 20, tzinfo=UTC)
    partners = [uuid.uuid4() for _ in range(3)]
    async with engine.begin() as conn:
        ids = []
        for n in range(count):
            referral_id = uuid.uuid4()
            ids.append(referral_id)
            needs = [{"area": area} for area in rng.sample(AREAS, rng.randint(0, 3))]
            await conn.execute(
                sa.text(
                    "INSERT INTO referrals (id, library, municipality, referring_partner_id, receiving_partner_id,"
                    " status, participant_pseudonym, participant_sealed, needs, reason, preferred_channel,"
                    " contact_person, consent, submitted_at, updated_at, respond_by, expires_at, consent_valid_until)"
                    " VALUES (:id, :library, 'm', :referrer, :receiver, 'submitted', :pseudonym, '\\x00',"
                    " CAST(:needs AS jsonb), 'r', 'phone', '{}', '{}', :at, :at, :at, :at,"
                    " CAST(CAST(:at AS timestamptz) AS date))"
                ),
                {
                    "id": referral_id,
                    "library": rng.choice(("lib-a", "lib-b")),
                    "referrer": rng.choice(partners),
                    "receiver": rng.choice([None, *partners]),
                    "pseudonym": f"P-{n}",
                    "needs": json.dumps(needs),
                    "at": start + timedelta(days=rng.randint(0, 100), hours=rng.randint(0, 23)),
                },
            )
    for referral_id in ids:
        async with engine.begin() as conn:
            for _ in range(rng.randint(0, 3)):
                changes: list[tuple[str, dict[str, Any]]] = [
                    ("status = :value", {"value": rng.choice(STATUSES)}),
                    ("overdue = NOT overdue, overdue_at = coalesce(overdue_at, now())", {}),
                    (
                        "outcome = CAST(:value AS jsonb)",
                        {"value": json.dumps({"course_finished": rng.random() < 0.5})},
                    ),
                    ("needs = CAST(:value AS jsonb)", {"value": json.dumps([{"area": rng.choice(AREAS)}])}),
                    (
                        "intake_held_at = submitted_at + make_interval(hours => :hours)",
                        {"hours": rng.randint(1, 400)},
                    ),
                    ("anonymised_at = now()", {}),
                ]
                change, parameters = rng.choice(changes)
                await conn.execute(
                    sa.text(f"UPDATE referrals SET {change} WHERE id = :id"), {"id": referral_id, **parameters}
                )


async def all_time(
    engine: AsyncEngine, counts: str, need_counts: str, cell: str, need_cell: str
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The figures per cell summed over shards (and months, for the counters per month), empty cells left out."""
    async with engine.connect() as conn:
        cells = (
            await conn.execute(
                sa.text(f"SELECT {cell}, sum(count) FROM {counts} GROUP BY {cell} HAVING sum(count) <> 0")
            )
        ).all()
        needs = (
            await conn.execute(
                sa.text(
                    f"SELECT {need_cell}, sum(count) FROM {need_counts} GROUP BY {need_cell} HAVING sum(count) <> 0"
                )
            )
        ).all()
    return sorted(map(tuple, cells), key=str), sorted(map(tuple, needs), key=str)


async def months(engine: AsyncEngine) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    return await all_time(
        engine, "referral_month_counts", "referral_month_need_counts", f"month, {CELL}", f"month, {NEED_CELL}"
    )


async def test_the_all_time_figures_come_from_the_month_counters_after_migrating(
    migrated: tuple[AsyncEngine, str],
) -> None:
    engine, schema = migrated
    rng = random.Random(20)
    await change_referrals(engine, rng, 40)
    before = await all_time(engine, "referral_counts", "referral_need_counts", CELL, NEED_CELL)
    months_before = await months(engine)
    assert len(before[0]) > 5 and before[1], "the referrals went several ways"

    applied = await migrate(engine, schema, MIGRATIONS)
    assert BEFORE in applied

    # What the all-time counters said is the month counters' sum over every month, cell by cell.
    assert await all_time(engine, "referral_month_counts", "referral_month_need_counts", CELL, NEED_CELL) == before
    assert await months(engine) == months_before
    async with engine.connect() as conn:
        left = await conn.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :schema AND tablename LIKE 'referral_%counts'"),
            {"schema": schema},
        )
        assert sorted(left.scalars()) == ["referral_month_counts", "referral_month_need_counts"]

    # Later changes go through the one trigger left: the counters equal a rebuild from the referrals.
    await change_referrals(engine, rng, 20)
    kept = await months(engine)
    async with engine.begin() as conn:
        await conn.execute(sa.text("SELECT rebuild_referral_figures()"))
    assert await months(engine) == kept
