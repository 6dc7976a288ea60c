"""A uvicorn server in the test's own event loop: the session's gateway, a second one, stubs, partners' endpoints."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

from launcher.embedded import free_port


def on_this_machine(app: Any, host: str = "127.0.0.1") -> uvicorn.Config:
    """A plain ASGI application (a partner's endpoint, a listener) on a free port, without lifespan events."""
    return uvicorn.Config(app, host=host, port=free_port(), lifespan="off", log_level="warning")


@contextlib.asynccontextmanager
async def serving(config: uvicorn.Config) -> AsyncIterator[uvicorn.Server]:
    """Serves `config` while the block runs: entered once the server listens (a server that cannot start raises
    why, instead of being waited for until the test's timeout), left once it has stopped."""
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn says so by a flag, not an event: polled
        if task.done():
            task.result()
            raise RuntimeError("the server stopped before it started")
        await asyncio.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        await task
