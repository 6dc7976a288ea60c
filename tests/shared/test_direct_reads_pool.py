"""The direct reads' own pool (shared/db.py `ConnectionPool`): at most `size` connections, opened when needed and
kept; a caller waits its turn when all are lent; a connection that may be unusable is dropped, not lent again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
import sqlalchemy as sa
from opentelemetry import trace

from shared.db import DirectReads, Prepared
from shared.errors import NotFound

BACKEND = Prepared("backend", sa.select(sa.func.pg_backend_pid().label("pid")))
SLEEP = Prepared("sleep", sa.select(sa.func.pg_sleep(sa.bindparam("seconds", type_=sa.Float)).label("slept")))


@pytest.fixture
async def reads(database_url: str) -> AsyncIterator[DirectReads]:
    reads = DirectReads(database_url, "public", size=2, tracer=trace.get_tracer("test"))
    await reads.start()
    yield reads
    await reads.close()


async def backend(reads: DirectReads) -> int:
    async with reads.connection() as db:
        row = await db.fetchrow(BACKEND)
    assert row is not None
    return int(row.pid)


async def test_a_connection_is_kept_and_lent_again(reads: DirectReads) -> None:
    first = await backend(reads)
    assert [await backend(reads) for _ in range(3)] == [first] * 3


async def test_no_more_than_size_are_opened_and_a_caller_waits_for_one_given_back(reads: DirectReads) -> None:
    async def hold(seconds: float) -> int:
        async with reads.connection() as db:
            await db.fetchrow(SLEEP, seconds=seconds)
            row = await db.fetchrow(BACKEND)
        assert row is not None
        return int(row.pid)

    pids = await asyncio.gather(*(hold(0.05) for _ in range(6)))

    assert len(set(pids)) == 2  # six callers, two connections: four waited for one to come back


async def test_an_error_of_ours_between_statements_gives_the_connection_back(reads: DirectReads) -> None:
    first = await backend(reads)
    with pytest.raises(NotFound):
        async with reads.connection() as db:
            await db.fetchrow(BACKEND)
            raise NotFound("not yours")

    assert await backend(reads) == first


async def test_a_statement_cancelled_midway_drops_its_connection(reads: DirectReads) -> None:
    first = await backend(reads)

    async def sleep() -> None:
        async with reads.connection() as db:
            await db.fetchrow(SLEEP, seconds=5)

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sleep(), 0.2)

    assert await backend(reads) != first  # a new connection: the old one may still be running the statement


async def test_a_connection_closed_by_the_server_is_replaced(reads: DirectReads, database_url: str) -> None:
    first = await backend(reads)
    other = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:  # another session ends the kept connection's backend, as a restart of PostgreSQL would
        assert await other.fetchval("SELECT pg_terminate_backend($1)", first)
    finally:
        await other.close()
    await asyncio.sleep(0.2)  # the driver notices the closed socket

    assert await backend(reads) != first
