"""Liveness and readiness for containers: `/livez` and `/readyz` over plain HTTP on `PARTNERNET_PROBE_PORT`.

A service talks NATS, not HTTP; its gateway `/health` check goes to whichever replica the queue group
picks. Kubernetes and Compose need to ask one process, so each answers here: live while its event loop
answers, ready while it holds a broker connection and reached its database at the last poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

REASONS = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}
READ_TIMEOUT_SECONDS = 5.0


async def serve_probes(port: int, ready: Callable[[], bool], host: str = "0.0.0.0") -> asyncio.Server:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), READ_TIMEOUT_SECONDS)
            while (await asyncio.wait_for(reader.readline(), READ_TIMEOUT_SECONDS)).strip():
                pass  # headers: nothing in them matters here
            parts = request_line.decode("latin-1").split()
            path = parts[1].split("?")[0] if len(parts) > 1 else ""
            if path == "/livez":
                status = 200
            elif path == "/readyz":
                status = 200 if ready() else 503
            else:
                status = 404
            body = json.dumps({"status": "up" if status == 200 else "down"}).encode()
            head = (
                f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    return await asyncio.start_server(answer, host, port)


def probe_lifespan(port: int | None, ready: Callable[[], bool]) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """The same probes for an ASGI app (the gateway), as a lifespan hook; no listener when `port` is None."""

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        server = await serve_probes(port, ready) if port is not None else None
        try:
            yield
        finally:
            if server is not None:
                server.close()

    return lifespan


def nats_ready(connection: Callable[[], Any]) -> Callable[[], bool]:
    """Ready while the NATS connection (a nats-py client, from `connection()`) is up."""

    def ready() -> bool:
        try:
            return bool(connection().is_connected)
        except Exception:
            return False

    return ready
