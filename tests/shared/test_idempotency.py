"""The service's side of `Idempotency-Key` (shared/idempotency.py) on real PostgreSQL, without a broker: the use
case runs once per key inside the key's transaction, its blocks join that transaction, and a failed call records
no key but keeps what its own blocks committed, as it would without a key.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
import sqlalchemy as sa
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.clock import SystemClock
from shared.db import DirectReads, Prepared, create_engine, migrate, session_factory
from shared.errors import Conflict, IdempotencyKeyReused
from shared.idempotency import ReplyStore
from shared.rpc.envelope import Idempotency, encode_result
from shared.tenancy import Actor, Role
from shared.unit_of_work import UnitOfWork

ACTOR = Actor(subject="staff-1", role=Role.STAFF, municipality="gem", library="bieb")
things = sa.table("things", sa.column("name", sa.Text))
COUNT_THINGS = Prepared("count things", sa.select(sa.func.count().label("n")).select_from(things))


@pytest.fixture
async def engine(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    schema = f"idem_{uuid.uuid4().hex[:8]}"
    engine = create_engine(database_url, schema=schema, pool_size=2)
    await migrate(engine, schema, tmp_path)  # the kernel tables only
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE things (name text PRIMARY KEY)"))
    yield engine
    async with engine.begin() as conn:
        await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


@pytest.fixture
def work(engine: AsyncEngine, database_url: str) -> UnitOfWork:
    reads = DirectReads(database_url, "unused", size=1, tracer=trace.get_tracer("test"))
    return UnitOfWork(session_factory(engine), SystemClock(), reads)


async def names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(sa.text("SELECT name FROM things ORDER BY name"))).scalars())


async def keys(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.text("SELECT count(*) FROM idempotency_keys"))).scalar_one())


def key(value: str, request: str = "request") -> Idempotency:
    return Idempotency(key=value, request=request)


async def test_a_call_runs_once_its_blocks_join_the_key_s_transaction_and_see_their_own_writes(
    engine: AsyncEngine, work: UnitOfWork
) -> None:
    store = ReplyStore(work.sessions, work.clock)
    runs = 0

    async def use_case() -> dict[str, int]:
        nonlocal runs
        runs += 1
        async with work.transaction() as tx:
            await tx.session.execute(sa.text("INSERT INTO things VALUES ('a')"))
        async with work.statements() as tx:
            await tx.session.execute(sa.text("INSERT INTO things VALUES ('b')"))
        async with work.read() as session:  # sees what the blocks above wrote, though nothing is committed yet
            read = (await session.execute(sa.text("SELECT count(*) FROM things"))).scalar_one()
        async with work.direct() as db:  # the transaction's own connection
            direct = (await db.fetchrow(COUNT_THINGS)).n  # type: ignore[union-attr]
        assert await names(engine) == []  # another connection: nothing committed while the call runs
        return {"read": read, "direct": direct, "run": runs}

    first = await store.once("rpc.x.make", ACTOR, key("k1"), use_case, encode_result)
    again = await store.once("rpc.x.make", ACTOR, key("k1"), use_case, encode_result)

    assert msgspec.json.decode(first) == {"result": {"read": 2, "direct": 2, "run": 1}}
    assert again == first and runs == 1
    assert await names(engine) == ["a", "b"]
    with pytest.raises(IdempotencyKeyReused):  # the same key with another request
        await store.once("rpc.x.make", ACTOR, key("k1", "another request"), use_case, encode_result)
    with pytest.raises(IdempotencyKeyReused):  # or for another operation
        await store.once("rpc.x.other", ACTOR, key("k1"), use_case, encode_result)
    assert runs == 1


async def test_a_failed_call_records_no_key_and_keeps_what_its_own_blocks_committed(
    engine: AsyncEngine, work: UnitOfWork
) -> None:
    store = ReplyStore(work.sessions, work.clock)

    async def use_case() -> None:
        async with work.transaction() as tx:  # committed on its own without a key: so it stays
            await tx.session.execute(sa.text("INSERT INTO things VALUES ('attempt')"))
        with pytest.raises(sa.exc.IntegrityError):
            async with work.transaction() as tx:  # fails and undoes only itself (a savepoint)
                await tx.session.execute(sa.text("INSERT INTO things VALUES ('dup'), ('dup')"))
        raise Conflict("no")

    with pytest.raises(Conflict):
        await store.once("rpc.x.make", ACTOR, key("k2"), use_case, encode_result)
    assert await names(engine) == ["attempt"]
    assert await keys(engine) == 0  # a retry runs again

    async def succeeds() -> str:
        async with work.transaction() as tx:
            await tx.session.execute(sa.text("INSERT INTO things VALUES ('done')"))
        return "ok"

    assert await store.once("rpc.x.make", ACTOR, key("k2"), succeeds, encode_result) == b'{"result":"ok"}'
    assert await keys(engine) == 1


async def test_a_key_is_per_actor(engine: AsyncEngine, work: UnitOfWork) -> None:
    store = ReplyStore(work.sessions, work.clock)
    others = [
        Actor(subject="staff-1", role=Role.STAFF, municipality="gem", library="bieb-2"),  # another library
        Actor(subject="staff-2", role=Role.STAFF, municipality="gem", library="bieb"),  # another person
        Actor(subject="staff-1", role=Role.COORDINATOR, municipality="gem"),  # another role
    ]
    for n, actor in enumerate([ACTOR, *others]):

        async def use_case(name: str = f"t{n}") -> str:
            async with work.transaction() as tx:
                await tx.session.execute(sa.text("INSERT INTO things VALUES (:n)"), {"n": name})
            return name

        reply = await store.once("rpc.x.make", actor, key("shared-key"), use_case, encode_result)
        assert msgspec.json.decode(reply) == {"result": f"t{n}"}
    assert await names(engine) == ["t0", "t1", "t2", "t3"]
