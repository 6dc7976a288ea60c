"""A schema migrated up to an earlier migration of the referrals service, for the tests of a later one."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine, migrate

MIGRATIONS = Path(__file__).parents[3] / "services" / "referrals" / "migrations"


@contextlib.asynccontextmanager
async def schema_before(
    database_url: str, tmp_path: Path, before: str, prefix: str
) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """A schema of its own, migrated up to (not including) the migration named `before`: the test fills it as the
    earlier code left its tables, then migrates the rest (`migrate(engine, schema, MIGRATIONS)`)."""
    earlier = tmp_path / "migrations"
    earlier.mkdir()
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if path.name < before:
            shutil.copy(path, earlier / path.name)
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(database_url, schema=schema, pool_size=2)
    await migrate(engine, schema, earlier)
    try:
        yield engine, schema
    finally:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()
