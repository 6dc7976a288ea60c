"""The services' pools over the embedded PostgreSQL's Unix socket (PARTNERNET_DATABASE_SOCKET, set by `partnernet up`):
the engine and the direct reads connect there, not over loopback TCP, and find the socket again after a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from opentelemetry import trace

from launcher.embedded import EmbeddedPostgres
from shared.db import DirectReads, Prepared, create_engine
from shared.settings import Settings

# PostgreSQL names no client address for a connection over its Unix socket.
CLIENT_ADDRESS = sa.select(sa.cast(sa.func.inet_client_addr(), sa.Text).label("address"))


async def addresses(database_url: str, socket: str | None) -> tuple[str | None, str | None]:
    """The client address PostgreSQL sees for the engine's connection and for a direct read's."""
    engine = create_engine(database_url, "public", socket=socket)
    reads = DirectReads(database_url, "public", size=1, tracer=trace.get_tracer("test"), socket=socket)
    await reads.start()
    try:
        async with engine.connect() as conn:
            by_engine = (await conn.execute(CLIENT_ADDRESS)).scalar()
        async with reads.connection() as direct:
            row = await direct.fetchrow(Prepared("client address", CLIENT_ADDRESS))
        assert row is not None
        return by_engine, row.address
    finally:
        await reads.close()
        await engine.dispose()


async def test_the_pools_connect_over_the_socket_and_find_it_after_a_restart(tmp_path: Path) -> None:
    database = EmbeddedPostgres(tmp_path / "postgres", durable=False)  # our own: it is restarted
    await asyncio.to_thread(database.start)
    try:
        socket = database.socket_dir
        assert socket is not None and (socket / f".s.PGSQL.{database.port}").exists()
        # A data directory of the test's own: without one the settings generate secrets into ./.partnernet.
        environ = {"PARTNERNET_DATA_DIR": str(tmp_path / "data"), "PARTNERNET_DATABASE_SOCKET": str(socket)}
        settings = Settings.from_env({"DATABASE_URL": database.url, **environ})
        assert settings.database_socket == str(socket)

        assert await addresses(database.url, settings.database_socket) == (None, None)
        by_tcp = await addresses(database.url, None)
        assert by_tcp == ("127.0.0.1/32", "127.0.0.1/32")  # without it: the URL's host, over TCP

        await asyncio.to_thread(database.stop)
        await asyncio.to_thread(database.start)
        assert database.socket_dir == socket  # where the running services look for it
        assert await addresses(database.url, settings.database_socket) == (None, None)
    finally:
        await asyncio.to_thread(database.stop)
    assert not socket.exists()  # nothing left in /tmp
