"""Database: one async engine per service, each service in its own PostgreSQL schema, and its migrations."""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

log = logging.getLogger(__name__)

KERNEL_MIGRATIONS = Path(__file__).parent / "migrations"

# Tables every service has in its own schema (outbox, inbox), created by the kernel migrations.
kernel_metadata = sa.MetaData()


def create_engine(database_url: str, schema: str, *, pool_size: int = 10) -> AsyncEngine:
    # The schema is the search path, so the service's tables need no schema in their names and a
    # service cannot touch another's tables by accident.
    # No ping before each checkout (a round trip on every request): a connection that died with the server
    # fails its next statement, and SQLAlchemy then drops every pooled connection older than that failure.
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        connect_args={"server_settings": {"search_path": schema, "application_name": f"partnernet-{schema}"}},
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def migration_files(service_migrations: Path) -> list[tuple[str, Path]]:
    kernel = [(f"kernel/{p.name}", p) for p in sorted(KERNEL_MIGRATIONS.glob("*.sql"))]
    own = [(p.name, p) for p in sorted(service_migrations.glob("*.sql"))]
    return kernel + own


async def migrate(engine: AsyncEngine, schema: str, service_migrations: Path) -> list[str]:
    """Apply what has not been applied yet, under a lock, so replicas starting together do it once."""
    applied_now: list[str] = []
    async with engine.begin() as conn:
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"migrate:{schema}"})
        await conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.execute(sa.text(f'SET LOCAL search_path TO "{schema}"'))
        await conn.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
        )
        done = set((await conn.execute(sa.text("SELECT name FROM schema_migrations"))).scalars())
        for name, path in migration_files(service_migrations):
            if name in done:
                continue
            await _run_script(conn, path.read_text())
            await conn.execute(sa.text("INSERT INTO schema_migrations (name) VALUES (:name)"), {"name": name})
            applied_now.append(name)
    if applied_now:
        log.info("migrated", extra={"schema": schema, "applied": applied_now})
    return applied_now


async def _run_script(conn: AsyncConnection, script: str) -> None:
    # asyncpg runs one statement per prepared call; a migration file may hold several.
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.execute(script)
