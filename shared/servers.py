"""Whether NATS and PostgreSQL are there, answered within seconds.

nats-py retries a first connection for minutes (forever with the services' unlimited reconnects) and asyncpg
waits a minute for a server that does not answer; an operator's command, and a process that starts, say what
is missing instead. Once a process runs, its broker and pool reconnect on their own as before.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import nats
import nats.errors

from shared.nats_callout import cluster_servers

if TYPE_CHECKING:  # imported where a database is checked: the gateway checks only NATS and never loads asyncpg
    import asyncpg

# Read when a connection is made, not when a function is defined: the tests of a silent server shorten it.
CONNECT_TIMEOUT_SECONDS = 3.0


class ServerUnreachable(Exception):
    """A server the command needs does not answer; the message names it, its address and what was seen."""


def without_password(url: str) -> str:
    """The URL to print: the password (NATS platform user, database) replaced by ***; each of a cluster's nodes."""
    if "," in url:
        return ",".join(without_password(node.strip()) for node in url.split(","))
    parts = urlsplit(url)
    if parts.password is None:
        return url
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{parts.hostname}{port}"))


def plain_database_url(database_url: str) -> str:
    """asyncpg's form of a SQLAlchemy URL (`postgresql+asyncpg://` → `postgresql://`)."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def connect_nats(nats_url: str, timeout: float | None = None) -> nats.NATS:
    """One connection for a command: a single try, no reconnects, no tracebacks printed by nats-py."""
    timeout = CONNECT_TIMEOUT_SECONDS if timeout is None else timeout

    seen: list[Exception] = []
    servers, user, password = cluster_servers(nats_url)

    async def quiet(error: Exception) -> None:  # nats-py would print a traceback for every try
        seen.append(error)

    try:
        # nats-py tries a server again until it exceeds max_reconnect_attempts (0 means for ever): 1 is two
        # tries; the outer deadline holds even where a try hangs past connect_timeout (TLS, a paused server).
        return await asyncio.wait_for(
            nats.connect(
                servers,
                user=user,
                password=password,
                connect_timeout=timeout,
                allow_reconnect=False,
                max_reconnect_attempts=1,
                reconnect_time_wait=0.2,
                error_cb=quiet,
            ),
            timeout=2 * timeout + 1,
        )
    except Exception as exc:
        # "no servers available" says nothing: the error of the last try (refused, timed out, refused our user) does.
        cause = seen[-1] if seen and isinstance(exc, nats.errors.NoServersError) else exc
        raise ServerUnreachable(f"NATS does not answer at {without_password(nats_url)} ({describe(cause)})") from exc


async def connect_database(database_url: str, timeout: float | None = None) -> asyncpg.Connection:
    import asyncpg  # see TYPE_CHECKING above

    timeout = CONNECT_TIMEOUT_SECONDS if timeout is None else timeout
    try:
        return await asyncpg.connect(plain_database_url(database_url), timeout=timeout)
    except Exception as exc:
        raise ServerUnreachable(
            f"PostgreSQL does not answer at {without_password(database_url)} ({describe(exc)})"
        ) from exc


async def check_nats(nats_url: str, timeout: float | None = None) -> None:
    connection = await connect_nats(nats_url, timeout)
    await connection.close()


async def check_database(database_url: str, timeout: float | None = None) -> None:
    connection = await connect_database(database_url, timeout)
    await connection.close()


def describe(exc: BaseException) -> str:
    # nats-py's NoServersError and asyncpg's timeouts have empty or generic texts: name the kind as well.
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: nothing listens there"
    text = str(exc).strip()
    kind = type(exc).__name__
    if isinstance(exc, TimeoutError) or not text:
        return "no answer in time" if isinstance(exc, TimeoutError) else kind
    return f"{kind}: {text}"
