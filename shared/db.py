"""Database: one async engine per service, each service in its own PostgreSQL schema, and its migrations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import asyncpg
import msgspec
import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler

log = logging.getLogger(__name__)

KERNEL_MIGRATIONS = Path(__file__).parent / "migrations"

# Tables every service has in its own schema (outbox, inbox), created by the kernel migrations.
kernel_metadata = sa.MetaData()


# Connections a service keeps open once opened, and the overflow a burst may open and close beyond them (a
# connect costs a TLS probe, authentication and the driver's type introspection each time). 20 at most, as
# before: four services and their direct reads stay within PostgreSQL's default 100 connections.
POOL_SIZE = 15
POOL_OVERFLOW = 5


def create_engine(
    database_url: str, schema: str, *, pool_size: int = POOL_SIZE, socket: str | None = None
) -> AsyncEngine:
    # The schema is the search path, so the service's tables need no schema in their names and a
    # service cannot touch another's tables by accident.
    # No ping before each checkout (a round trip on every request): a connection that died with the server
    # fails its next statement, and SQLAlchemy then drops every pooled connection older than that failure.
    # `socket`: the server's Unix socket directory (settings.database_socket), in place of the URL's host.
    connect_args: dict[str, Any] = {
        "server_settings": {"search_path": schema, "application_name": f"partnernet-{schema}"}
    }
    if socket:
        connect_args["host"] = socket
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=POOL_OVERFLOW,
        pool_pre_ping=False,
        connect_args=connect_args,
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


async def find_row(session: AsyncSession, table: sa.Table, row_id: Any, *, for_update: bool = False) -> sa.Row | None:
    """A row by its `id`; `for_update` takes its row lock (`SELECT … FOR UPDATE`) until the transaction ends."""
    statement = sa.select(table).where(table.c.id == row_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).first()


async def driver_sql(session: AsyncSession, sql: str, *arguments: Any) -> Sequence[sa.Row[Any]]:
    """A statement in asyncpg's own SQL (`$1` …) in the session's transaction, nothing compiled: for a consumer's
    statements per batch. Through SQLAlchemy's execution all the same, not on the driver beside it: that sends
    the transaction's BEGIN (its adapter sends one only with its own first statement, so a statement sent to the
    driver first committed on its own) and, when the connection turns out lost (PostgreSQL restarted), drops it
    and every pooled connection as old, where an error on the driver alone left them to fail the retries too."""
    connection = await session.connection()
    result = await connection.exec_driver_sql(sql, arguments)
    return result.all() if result.returns_rows else []  # a write without RETURNING has no rows to give


def in_rounds(rows: Sequence[Mapping[str, Any]], key: str = "id") -> list[list[Mapping[str, Any]]]:
    """A batch's rows in rounds in which no `key` comes twice: round n holds each key's n-th row. A statement per
    round that upserts one row per key (`ON CONFLICT DO UPDATE` refuses to touch a row twice in one statement)
    then applies each key's rows in their order, as one statement per row did; a batch of distinct keys is one
    round."""
    rounds: list[list[Mapping[str, Any]]] = []
    seen: dict[Any, int] = {}
    for row in rows:
        n = seen[row[key]] = seen.get(row[key], -1) + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(row)
    return rounds


def columns_of(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> list[list[Any]]:
    """The rows as one list per column, in `names`' order: the arrays of an `unnest($1::…[], …)` statement."""
    return [[row[name] for row in rows] for name in names]


# --- statements on the driver directly, for the hottest reads ------------------------------------------------

_ASYNCPG = asyncpg_dialect()


class Prepared:
    """A Core statement compiled once to asyncpg's SQL, run on a plain asyncpg connection (`DirectReads`).

    The statement is written with the service's tables like any other; only its execution skips SQLAlchemy
    (compiling, result processing, the session): asyncpg prepares it once per connection and keeps it.
    Parameters are named `sa.bindparam`s, given as keywords; values go to asyncpg as they are (UUID, str,
    datetime …: no SQLAlchemy type processing), and rows come back as `DirectRow`s.
    """

    def __init__(self, name: str, statement: sa.ClauseElement) -> None:
        compiled = statement.compile(dialect=_ASYNCPG)
        assert isinstance(compiled, SQLCompiler)
        self.name = name  # the span's name
        self.sql = compiled.string
        self._order = tuple(compiled.positiontup or ())
        # Values written into the statement (literals, constants in a comparison) are parameters to asyncpg.
        self._constants = {
            name: bind.effective_value for bind, name in compiled.bind_names.items() if not bind.required
        }

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        try:
            return [values[name] if name in values else self._constants[name] for name in self._order]
        except KeyError as exc:
            raise TypeError(f"statement {self.name!r} needs the parameter {exc.args[0]!r}") from None


class DirectRow:
    """An asyncpg record read by attribute, like a SQLAlchemy row, so the same view functions take both.

    Its columns are copied into the instance's attributes once: a referral's view reads some 40 of them, and a
    `__getattr__` (called only after the ordinary lookup has failed) cost ~0.4 µs each, ~15 µs a read."""

    def __init__(self, record: asyncpg.Record) -> None:
        self.__dict__.update(record.items())

    if TYPE_CHECKING:  # any column, for the type checker; at run time an unknown name is an AttributeError

        def __getattr__(self, name: str) -> Any: ...


class DirectConnection:
    """One asyncpg connection, lent for a few statements; each is a span where the request's trace records."""

    def __init__(self, connection: asyncpg.Connection, tracer: Tracer) -> None:
        self._connection = connection
        self._tracer = tracer

    async def fetchrow(self, statement: Prepared, **values: Any) -> DirectRow | None:
        with self._span(statement):
            record = await self._connection.fetchrow(statement.sql, *statement.arguments(values))
        return None if record is None else DirectRow(record)

    async def fetch(self, statement: Prepared, **values: Any) -> list[DirectRow]:
        with self._span(statement):
            records = await self._connection.fetch(statement.sql, *statement.arguments(values))
        return [DirectRow(record) for record in records]

    async def execute(self, statement: Prepared, **values: Any) -> None:
        with self._span(statement):
            await self._connection.execute(statement.sql, *statement.arguments(values))

    @property
    def in_transaction(self) -> bool:
        """Whether a statement's end is not its commit (an idempotent call's transaction lent its connection)."""
        return self._connection.is_in_transaction()

    def _span(self, statement: Prepared) -> Any:
        if not trace.get_current_span().is_recording():  # a span nobody records costs more than the statement
            return _NO_SPAN
        span = self._tracer.start_as_current_span(statement.name, kind=SpanKind.CLIENT)
        return _Recorded(span, statement)


class _NoSpan:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


_NO_SPAN = _NoSpan()


class _Recorded:
    def __init__(self, span: Any, statement: Prepared) -> None:
        self._span = span
        self._statement = statement

    def __enter__(self) -> None:
        span = self._span.__enter__()
        span.set_attributes({"db.system": "postgresql", "db.statement": self._statement.sql})

    def __exit__(self, *exc: object) -> None:
        self._span.__exit__(*exc)


async def _json_codecs(connection: asyncpg.Connection) -> None:
    # As SQLAlchemy's asyncpg dialect reads them: json and jsonb values as Python values.
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name,
            encoder=lambda value: msgspec.json.encode(value).decode(),
            decoder=msgspec.json.decode,
            schema="pg_catalog",
        )


class ConnectionPool:
    """At most `size` plain asyncpg connections, opened when first needed and then kept; a caller waits for one
    when all are lent (first come, first served).

    Instead of asyncpg's `Pool`, whose acquire and release (a queue, a timeout, a task shielding each release, a
    proxy around the connection) cost the caller ~40 µs of CPU per statement, three times the statement's own
    (32 callers on 16 connections, `SELECT 1`: 57 against 18 µs). A connection goes back as it is, with no reset
    query: a read leaves no session settings behind. One that is closed (PostgreSQL restarted), in a transaction,
    or was cancelled mid-statement is dropped, and its place opens a new one when next needed.
    """

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], size: int) -> None:
        self._connect = connect
        self._idle: list[asyncpg.Connection] = []
        self._openable = max(size, 1)  # places for connections not opened yet (or dropped)
        # Callers waiting, each handed a connection or None (a place: open one).
        self._waiting: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._closed = False

    async def acquire(self) -> asyncpg.Connection:
        if self._closed:
            raise asyncpg.InterfaceError("the pool of direct reads is closed")
        while self._idle:
            connection = self._idle.pop()  # the one used last: the fewest connections stay busy
            if not connection.is_closed():
                return connection
            self._openable += 1
        if self._openable > 0:
            self._openable -= 1
            return await self._open()
        waiter: asyncio.Future[asyncpg.Connection | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            handed = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed over just as the caller gave up: pass it on
                self._hand_over(waiter.result())
            raise
        if handed is None or handed.is_closed():
            return await self._open()
        return handed

    async def _open(self) -> asyncpg.Connection:
        try:
            return await self._connect()
        except BaseException:
            self._hand_over(None)  # the place is free again (a waiter tries in its turn)
            raise

    def release(self, connection: asyncpg.Connection, *, reusable: bool) -> None:
        if reusable and not self._closed and not connection.is_closed() and not connection.is_in_transaction():
            self._hand_over(connection)
            return
        if not connection.is_closed():
            connection.terminate()
        self._hand_over(None)

    def _hand_over(self, connection: asyncpg.Connection | None) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if connection is None:
            self._openable += 1
        elif self._closed:
            connection.terminate()
        else:
            self._idle.append(connection)

    async def close(self) -> None:
        """Close the idle connections; one lent now is closed when it comes back."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            with contextlib.suppress(Exception):
                await connection.close(timeout=5)
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(asyncpg.InterfaceError("the pool of direct reads is closed"))


class DirectReads:
    """A service's pool of plain asyncpg connections for its hottest reads (`Prepared` statements).

    Beside the engine's pool, because SQLAlchemy's session and result machinery cost a read as much as the
    round trip to PostgreSQL does. Connections open when first needed and then stay open (no churn under
    bursts); nothing connects before `start()`.
    """

    def __init__(self, database_url: str, schema: str, *, size: int, tracer: Tracer, socket: str | None = None) -> None:
        self._dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        # The server's Unix socket directory in place of the URL's host (settings.database_socket); asyncpg then
        # takes the port (the socket's name) from its argument only, not from the URL.
        self._address = {"host": socket, "port": urlsplit(self._dsn).port or 5432} if socket else {}
        self._schema = schema
        self._size = size
        self._tracer = tracer
        self._pool: ConnectionPool | None = None

    async def start(self) -> None:
        self._pool = ConnectionPool(self._connect, self._size)

    async def _connect(self) -> asyncpg.Connection:
        connection = await asyncpg.connect(
            self._dsn,
            **self._address,
            server_settings={
                "search_path": self._schema,
                "application_name": f"partnernet-{self._schema}-reads",
                "TimeZone": "UTC",
            },
        )
        await _json_codecs(connection)
        return connection

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[DirectConnection]:
        pool = self._pool
        if pool is None:
            raise RuntimeError(f"the {self._schema} service's direct reads are not started")
        connection = await pool.acquire()
        try:
            yield DirectConnection(connection, self._tracer)
        except (Exception, asyncio.CancelledError) as exc:
            # PostgreSQL's own error, or ours between statements (a referral not found): the connection is idle.
            # Cancelled or timed out during a statement, it may still be busy: closed, not lent again.
            pool.release(connection, reusable=not isinstance(exc, (asyncio.CancelledError, TimeoutError)))
            raise
        pool.release(connection, reusable=True)

    def lend(self, connection: asyncpg.Connection) -> DirectConnection:
        """Prepared statements on a connection the caller holds (a transaction's: shared/unit_of_work.py)."""
        return DirectConnection(connection, self._tracer)


# --- one prepared statement per shape of a caller's scope (the overview's figures) ----------------------------

ScopeShape = tuple[bool, bool]  # whether the statement is narrowed to a municipality, to a library
SCOPE_SHAPES: tuple[ScopeShape, ...] = ((False, False), (True, False), (False, True), (True, True))
SCOPE_NAMES: dict[ScopeShape, str] = {
    (False, False): "everywhere",
    (True, False): "a municipality",
    (False, True): "a library",
    (True, True): "a municipality's library",
}


def scope_condition(shape: ScopeShape, alias: str = "", library_column: str = "library") -> str:
    """The WHERE condition of a scope shape, on `alias`'s columns: `:municipality` and `:library` as it narrows."""
    conditions = ["true"]
    if shape[0]:
        conditions.append(f"{alias}municipality = :municipality")
    if shape[1]:
        conditions.append(f"{alias}{library_column} = :library")
    return " AND ".join(conditions)


def scoped_text(sql: str, shape: ScopeShape) -> sa.TextClause:
    """`sql` with the scope's parameters typed as text (asyncpg prepares it once per shape)."""
    names = [name for name, present in zip(("municipality", "library"), shape, strict=True) if present]
    return sa.text(sql).bindparams(*(sa.bindparam(name, type_=sa.Text) for name in names))


def prepared_per_scope(name: str, statement: Callable[[ScopeShape], sa.ClauseElement]) -> dict[ScopeShape, Prepared]:
    """The statement `statement(shape)` prepared for each scope shape, named "`name` of <the shape>"."""
    return {shape: Prepared(f"{name} of {SCOPE_NAMES[shape]}", statement(shape)) for shape in SCOPE_SHAPES}
