"""Migration 022 on a database that already holds referrals: `referrals_by_library`, which no query needs beside
`referrals_worklist`, is gone, every other index stays, and the referrals' indexes are the ones store/__init__.py
declares. A library's referrals of a status are the same rows after it (their plans at volume:
test_query_plans.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.referrals.store import referrals
from shared.db import migrate
from tests.services.referrals.earlier_schema import MIGRATIONS, schema_before

BEFORE = "022_no_library_status_index.sql"

INDEXES = "SELECT indexname FROM pg_indexes WHERE schemaname = :schema AND tablename = 'referrals'"
# What the dropped index was made for: a library's referrals of a status, in the order of their submission.
BY_LIBRARY_AND_STATUS = (
    "SELECT id FROM referrals WHERE library = :library AND status = :status ORDER BY submitted_at, id"
)


@pytest.fixture
async def migrated(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """A schema of its own, migrated up to the migration before 022."""
    async with schema_before(database_url, tmp_path, BEFORE, "referral_indexes") as migrated:
        yield migrated


async def test_the_library_status_index_goes_and_the_rest_stay(migrated: tuple[AsyncEngine, str]) -> None:
    engine, schema = migrated
    async with engine.begin() as conn:
        await conn.execute(sa.text("INSERT INTO known_libraries (slug, municipality) VALUES ('lib-a', 'm')"))
        await conn.execute(sa.text("INSERT INTO known_libraries (slug, municipality) VALUES ('lib-b', 'm')"))
        await conn.execute(
            sa.text(
                "INSERT INTO referrals (id, library, municipality, referring_partner_id, status, participant_pseudonym,"
                " needs, preferred_channel, contact_person, consent, submitted_at, updated_at, respond_by, expires_at,"
                " consent_valid_until)"
                " SELECT gen_random_uuid(), CASE WHEN n % 3 = 0 THEN 'lib-b' ELSE 'lib-a' END, 'm', :partner,"
                " CASE WHEN n % 4 = 0 THEN 'accepted' ELSE 'submitted' END, 'P-' || n, '[]', 'phone', '{}', '{}',"
                " now() - n * interval '1 minute', now(), now(), now(), current_date"
                " FROM generate_series(1, 300) AS n"
            ),
            {"partner": uuid.uuid4()},
        )
        before = set((await conn.execute(sa.text(INDEXES), {"schema": schema})).scalars())
        asked = [
            {"library": lib, "status": status} for lib in ("lib-a", "lib-b") for status in ("submitted", "accepted")
        ]
        found_before = [list((await conn.execute(sa.text(BY_LIBRARY_AND_STATUS), q)).scalars()) for q in asked]
    assert "referrals_by_library" in before

    assert BEFORE in await migrate(engine, schema, MIGRATIONS)

    async with engine.begin() as conn:
        after = set((await conn.execute(sa.text(INDEXES), {"schema": schema})).scalars())
        found_after = [list((await conn.execute(sa.text(BY_LIBRARY_AND_STATUS), q)).scalars()) for q in asked]
    assert after == before - {"referrals_by_library"}
    assert after == {"referrals_pkey"} | {index.name for index in referrals.indexes}
    assert found_after == found_before
    assert all(found_before)
