"""Migration 021 on a database that already holds a blind index of a row per digest: each referral's digests become
its one row, and the duplicates' and the person's lookups find what they found before, with the same counts; and a
submission's lookup through the new index reads referrals by their key only."""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.referrals.store.submission import SUBMISSION_CONTEXT
from shared.db import migrate
from tests.services.referrals.earlier_schema import MIGRATIONS, schema_before

BEFORE = "021_blind_index_one_row_per_referral.sql"

# The lookup of migration 003's index, as store/duplicates.py made it before 021: per referral sharing a digest,
# whether its exact digest is among them, how many of its features are, and how many features it has.
OLD_CANDIDATES = """
    WITH matches AS (
        SELECT referral_id, count(*) FILTER (WHERE kind = 'feature') AS shared, bool_or(kind = 'exact') AS exact
          FROM referral_blind_index
         WHERE municipality = :municipality AND referral_id <> :referral_id AND digest = ANY (:digests)
         GROUP BY referral_id),
    totals AS (
        SELECT referral_id, count(*) AS features FROM referral_blind_index
         WHERE kind = 'feature' AND referral_id IN (SELECT referral_id FROM matches) GROUP BY referral_id)
    SELECT m.referral_id, m.exact, m.shared, t.features FROM matches m JOIN totals t USING (referral_id)
"""
NEW_CANDIDATES = """
    SELECT referral_id, exact, shared, features
      FROM referral_blind_matches(:municipality, :referral_id, :exact, :features)
"""
OLD_EXACT = "SELECT referral_id FROM referral_blind_index WHERE municipality = :municipality AND digest = :digest"
NEW_EXACT = "SELECT referral_id FROM referral_blind_keys WHERE municipality = :municipality AND exact = :digest"


@pytest.fixture
async def migrated(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """A schema of its own, migrated up to the migration before 021."""
    async with schema_before(database_url, tmp_path, BEFORE, "blind_migration") as migrated:
        yield migrated


def digest() -> bytes:
    return os.urandom(32)


async def seed(engine: AsyncEngine, rng: random.Random) -> list[tuple[uuid.UUID, str, bytes, list[bytes]]]:
    """Referrals of a few persons in two municipalities, their features drawn from a few pools (people of one birth
    date share some), some closed (the exact digest alone left), as migration 003's rows."""
    pools = [[digest() for _ in range(40)] for _ in range(3)]
    persons = [(digest(), rng.choice(pools)) for _ in range(8)]
    written = []
    async with engine.begin() as conn:
        for _ in range(40):
            exact, pool = rng.choice(persons)
            referral_id, municipality = uuid.uuid4(), rng.choice(("m1", "m2"))
            features = rng.sample(pool, rng.randint(10, 26)) if rng.random() < 0.8 else []  # else closed
            rows = [{"kind": "exact", "digest": exact}, *({"kind": "feature", "digest": f} for f in features)]
            await conn.execute(
                sa.text(
                    "INSERT INTO referral_blind_index (referral_id, municipality, kind, digest)"
                    " VALUES (:referral_id, :municipality, :kind, :digest)"
                ),
                [{"referral_id": referral_id, "municipality": municipality, **row} for row in rows],
            )
            written.append((referral_id, municipality, exact, features))
    return written


def probes(rng: random.Random, written: list[tuple[uuid.UUID, str, bytes, list[bytes]]]) -> list[dict[str, Any]]:
    """Lookups as submissions make them: a person's exact digest and some of their features, or only features, or
    nothing that is held."""
    found = []
    for referral_id, municipality, exact, features in rng.sample(written, 15):
        some = rng.sample(features, min(len(features), rng.randint(0, 20)))
        for given_exact, given in ((exact, some), (digest(), some), (exact, [digest()]), (digest(), [digest()])):
            leaving_out = rng.choice((referral_id, uuid.uuid4()))
            found.append(
                {"municipality": municipality, "referral_id": leaving_out, "exact": given_exact, "features": given}
            )
    return found


async def answers(engine: AsyncEngine, statement: str, exact_statement: str, asked: list[dict[str, Any]]) -> list[Any]:
    async with engine.connect() as conn:
        result = []
        for probe in asked:
            parameters = {**probe, "digests": [probe["exact"], *probe["features"]]}
            rows = await conn.execute(sa.text(statement), parameters)
            result.append(
                sorted((row.referral_id, bool(row.exact), int(row.shared), int(row.features)) for row in rows)
            )
            same = await conn.execute(sa.text(exact_statement), {**probe, "digest": probe["exact"]})
            result.append(sorted(same.scalars()))
    return result


async def test_the_blind_index_becomes_a_row_per_referral_and_finds_what_it_found(
    migrated: tuple[AsyncEngine, str],
) -> None:
    engine, schema = migrated
    rng = random.Random(21)
    written = await seed(engine, rng)
    asked = probes(rng, written)
    before = await answers(engine, OLD_CANDIDATES, OLD_EXACT, asked)
    assert sum(1 for found in before if found) > len(asked) // 2, "the lookups found referrals"

    assert BEFORE in await migrate(engine, schema, MIGRATIONS)

    assert await answers(engine, NEW_CANDIDATES, NEW_EXACT, asked) == before
    async with engine.connect() as conn:
        rows = (
            await conn.execute(sa.text("SELECT referral_id, municipality, exact, features FROM referral_blind_keys"))
        ).all()
    assert sorted((r.referral_id, r.municipality, r.exact, sorted(r.features or [])) for r in rows) == sorted(
        (referral_id, municipality, exact, sorted(features)) for referral_id, municipality, exact, features in written
    )


async def test_a_submission_s_lookup_reads_only_the_referrals_its_digests_match(
    migrated: tuple[AsyncEngine, str],
) -> None:
    """The submission's one lookup (store/submission.py) at 2,000 open referrals of the municipality, none sharing a
    digest, before any ANALYZE: referrals read by their key only. Joined the plain way, the planner started from every
    open referral of the municipality (the function's rows estimated as a few), 0.6 ms and ~480 buffers at the
    pipeline's maximum, growing with the referrals."""
    engine, schema = migrated
    await migrate(engine, schema, MIGRATIONS)
    rows = [(uuid.uuid4(), f"P-{n}") for n in range(2000)]
    async with engine.begin() as conn:
        await conn.execute(sa.text("INSERT INTO known_libraries (slug, municipality) VALUES ('lib-a', 'm')"))
        await conn.execute(
            sa.text(
                "INSERT INTO referrals (id, library, municipality, referring_partner_id, status, participant_pseudonym,"
                " needs, preferred_channel, contact_person, consent, submitted_at, updated_at, respond_by, expires_at,"
                " consent_valid_until)"
                " SELECT id, 'lib-a', 'm', :partner, 'submitted', pseudonym, '[]', 'phone', '{}', '{}', now(), now(),"
                " now(), now(), current_date"
                " FROM unnest(CAST(:ids AS uuid[]), CAST(:pseudonyms AS text[])) AS r(id, pseudonym)"
            ),
            {"ids": [r for r, _ in rows], "pseudonyms": [p for _, p in rows], "partner": uuid.uuid4()},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO referral_blind_keys (referral_id, municipality, exact, features)"
                " SELECT id, 'm', sha256(convert_to(id::text, 'UTF8')),"
                " ARRAY[sha256(convert_to(id::text || 'f1', 'UTF8')), sha256(convert_to(id::text || 'f2', 'UTF8'))]"
                " FROM referrals"
            )
        )
    arguments = SUBMISSION_CONTEXT.arguments(
        {
            "library": "lib-a",
            "partner": uuid.uuid4(),
            "referral_id": uuid.uuid4(),
            "exact_digest": digest(),
            "feature_digests": [digest() for _ in range(25)],
        }
    )
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.execute(f'SET search_path TO "{schema}"')
        explained = await raw.fetchval("EXPLAIN (FORMAT JSON) " + SUBMISSION_CONTEXT.sql, *arguments)
    plan = json.loads(explained) if isinstance(explained, str) else explained  # the engine's codec may decode it

    def on_referrals(node: dict[str, Any]) -> list[str]:
        found = [node.get("Index Name", node["Node Type"])] if node.get("Relation Name") == "referrals" else []
        return found + [name for child in node.get("Plans", []) for name in on_referrals(child)]

    assert on_referrals(plan[0]["Plan"]) == ["referrals_pkey"]
