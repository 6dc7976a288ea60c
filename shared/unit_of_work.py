"""The unit of work a use case runs in: one transaction, the clock, and the outbox for its events."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import Clock
from shared.contracts import Envelope, EventData
from shared.db import DirectConnection, DirectReads, driver_sql
from shared.outbox import NOTIFY_RELAY, stage_event
from shared.relay import RELAYS_WOKEN, Relay, woken_channels

log = logging.getLogger(__name__)

# The transaction a call with an `Idempotency-Key` runs in (shared/idempotency.py): the use case's blocks join it.
_AMBIENT: ContextVar[AsyncSession | None] = ContextVar("partnernet_ambient_transaction", default=None)


@contextmanager
def ambient_transaction(session: AsyncSession) -> Iterator[None]:
    """Inside the block, a unit of work on the same engine runs its blocks in `session`'s transaction: writes
    in a savepoint each (a block that raises undoes only itself, as its own transaction would), reads in it
    too, so that they see what the blocks before them wrote. Nothing commits until the owner of `session` does."""
    token = _AMBIENT.set(session)
    try:
        yield
    finally:
        _AMBIENT.reset(token)


_SET_RELAYS_WOKEN = f"SELECT set_config('{RELAYS_WOKEN}', $1, true)"


@dataclass(frozen=True)
class Transaction:
    session: AsyncSession
    clock: Clock
    # The channels whose relays the unit of work wakes once this transaction has committed (`wakes_relays`); None
    # where it cannot: a block inside an idempotent call's transaction, whose commit is not this block's end.
    woken: set[str] | None = field(default=None, compare=False)

    async def wakes_relays(self, *channels: str) -> None:
        """Say, before writing rows for the relays of `channels`, that the unit of work wakes those relays after
        the commit (in this process, or by a NOTIFY in a transaction of its own), so their tables' triggers send
        no NOTIFY in this transaction (shared/relay.py RELAYS_WOKEN). One round trip the first time a channel is
        named; none where the transaction cannot (`woken` None): the triggers notify with its commit as before."""
        if self.woken is None or self.woken.issuperset(channels):
            return
        self.woken.update(channels)
        await driver_sql(self.session, _SET_RELAYS_WOKEN, woken_channels(self.woken))

    async def stage(self, data: EventData, *, municipality: str | None, library: str | None) -> Envelope:
        return await stage_event(self.session, data, clock=self.clock, municipality=municipality, library=library)


@dataclass(frozen=True)
class UnitOfWork:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    reads: DirectReads | None = None  # the service's plain asyncpg connections (shared/db.py), where it has them
    # The service's relays (the outbox's and its own: a live list, as the service adds them), for `relays_written`.
    relays: Sequence[Relay[Any, Any]] = ()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Commits when the block ends, rolls back (events included) when it raises."""
        ambient = self._ambient()
        if ambient is not None:
            async with ambient.begin_nested():
                yield Transaction(ambient, self.clock)
            return
        woken: set[str] | None = set() if self.relays else None
        async with self.sessions.begin() as session:
            yield Transaction(session, self.clock, woken)
        if woken:  # committed (a block that raised rolled back and ends here)
            await self.relays_written(woken)

    def _ambient(self) -> AsyncSession | None:
        ambient = _AMBIENT.get()
        if ambient is None or ambient.bind is not self.sessions.kw["bind"]:
            return None
        return ambient

    @cached_property
    def _reads(self) -> async_sessionmaker[AsyncSession]:
        # Reads run in autocommit: no BEGIN/ROLLBACK round trips around a query that changes nothing.
        engine = self.sessions.kw["bind"]
        return async_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries; each statement sees the latest committed data (no shared snapshot)."""
        ambient = self._ambient()
        if ambient is not None:
            yield ambient
            return
        async with self._reads() as session:
            yield session

    @asynccontextmanager
    async def direct(self) -> AsyncIterator[DirectConnection]:
        """A plain asyncpg connection for `Prepared` statements: the hottest reads, without SQLAlchemy's costs.
        Like `read()`, each statement sees the latest committed data."""
        if self.reads is None:
            raise RuntimeError("this unit of work has no direct reads (ServiceRuntime.unit_of_work gives them)")
        ambient = self._ambient()
        if ambient is not None:  # the transaction's own connection, so the read sees what it wrote
            raw = await (await ambient.connection()).get_raw_connection()
            yield self.reads.lend(raw.driver_connection)
            return
        async with self.reads.connection() as connection:
            yield connection

    @asynccontextmanager
    async def statements(self) -> AsyncIterator[Transaction]:
        """Each statement commits on its own (autocommit), with no BEGIN and COMMIT round trips: for a use case
        whose writes are one statement (data-modifying CTEs), which PostgreSQL applies whole or not at all."""
        ambient = self._ambient()
        if ambient is not None:
            async with ambient.begin_nested():
                yield Transaction(ambient, self.clock)
            return
        async with self._reads() as session:
            yield Transaction(session, self.clock)

    @asynccontextmanager
    async def direct_statements(self) -> AsyncIterator[DirectConnection]:
        """`statements()` on a plain asyncpg connection (`direct()`), for `Prepared` writes: each commits on its
        own; inside an idempotent call's transaction they join it, in a savepoint as a write block does."""
        ambient = self._ambient()
        async with ambient.begin_nested() if ambient is not None else contextlib.nullcontext():
            async with self.direct() as connection:
                yield connection

    def may_wake_relays(self, connection: DirectConnection) -> bool:
        """Whether a statement on `connection` that writes rows for relays may name their channels in
        `shared.relay.RELAYS_WOKEN` (`woken_channels`) and its writer call `relays_written` once it returns: only
        in autocommit, where the statement's end is its commit. In a transaction the NOTIFY goes with that commit,
        as always. (A `transaction()` block says so with `Transaction.wakes_relays`.)"""
        return bool(self.relays) and not connection.in_transaction

    async def relays_written(self, channels: Iterable[str], connection: DirectConnection | None = None) -> None:
        """Wake the relays of `channels` after a commit that sent them no NOTIFY. In this process where the relay
        is the active one: no round trip. Otherwise NOTIFY in a transaction of its own: one that wrote nothing
        has no WAL to flush at its commit, so it holds PostgreSQL's notification lock only for a moment, where a
        writing transaction's NOTIFY held it across its commit's flush and made every notifying commit wait for
        the one before (kernel migration 006). On `connection` when the writer still holds one (a second from the
        pool while holding the first could wait for ever on a full pool)."""
        asleep = [channel for channel in channels if not self._wake(channel)]
        if not asleep:
            return
        try:
            async with contextlib.nullcontext(connection) if connection is not None else self.direct() as notifying:
                for channel in asleep:
                    await notifying.execute(NOTIFY_RELAY, channel=channel)
        except Exception:  # what was written has committed: the relays' poll finds it, a little later
            log.warning("relays %s not woken after a commit; their poll finds the rows", asleep, exc_info=True)

    def _wake(self, channel: str) -> bool:
        return any(relay.wake() for relay in self.relays if relay.channel == channel)


R = TypeVar("R")


async def in_batches(
    work: UnitOfWork,
    due: Callable[[Transaction, datetime], Awaitable[Sequence[R]]],
    handle: Callable[[Transaction, R, datetime], Awaitable[object]],
    *,
    batch: int,
) -> int:
    """A periodic job's sweep: what `due` claims (at most `batch` rows, at the transaction's `now`) is handled in
    that transaction, batch after batch, until one comes back short. How many were handled."""
    handled = 0
    while True:
        async with work.transaction() as tx:
            now = tx.clock.now()
            rows = await due(tx, now)
            for row in rows:
                await handle(tx, row, now)
        handled += len(rows)
        if len(rows) < batch:
            return handled
