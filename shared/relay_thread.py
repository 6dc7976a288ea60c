"""A relay that publishes to NATS, run in a thread of its own: its own event loop, its own NATS connection.

A relay shares nothing with its service's requests but the process. On the service's event loop each of its
steps (the read, the publishes, the acks, the mark) waited behind every request callback that was ready: at a
service's maximum rate that put the outbox relay hundreds of milliseconds behind the commits (`python -m
benchmarks --only pipeline`, issue 17). In a thread of its own a step waits for the GIL instead, which the
interpreter hands over at least every switch interval (5 ms), however busy the requests keep the other thread.

What the relay does is unchanged (shared/relay.py): the same sweeps, the same order, the same lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Coroutine
from typing import Any

import nats
from nats.aio.client import Client as NATS

from shared.nats_callout import cluster_servers
from shared.relay import OrderedPublisher, Relay
from shared.telemetry import housekeeping

log = logging.getLogger(__name__)

STOP_SECONDS = 10.0  # how long a stopping service waits for the relay's thread to end


class RelayThread:
    def __init__(self, relay: Relay[Any, Any], publisher: OrderedPublisher, nats_url: str, *, name: str) -> None:
        self.relay = relay
        self.publisher = publisher
        self.nats_url = nats_url
        self.name = name
        self._lock = threading.Lock()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Run the relay in its thread until this is cancelled; then stop the thread and wait for it."""
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[None] = loop.create_future()

        def main() -> None:
            try:
                _run_loop(self._serve())
            except BaseException:  # reported; the service's task for the relay then ends too
                log.exception("relay thread %s ended", self.name)
            finally:
                with contextlib.suppress(RuntimeError):  # the service's loop is closed already
                    loop.call_soon_threadsafe(_end, ended)

        thread = threading.Thread(target=main, name=f"relay-{self.name}", daemon=True)
        thread.start()
        try:
            await asyncio.shield(ended)
        finally:
            self._stop()
            await asyncio.to_thread(thread.join, STOP_SECONDS)

    async def _serve(self) -> None:
        with self._lock:
            if self._stopping:
                return
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
        connection = await self._connect()
        self.publisher.connection = lambda: connection
        try:
            with housekeeping():
                await self.relay.run()
        finally:
            with contextlib.suppress(Exception):
                await connection.close()

    async def _connect(self) -> NATS:
        """The relay's own connection, reconnecting for ever like the service's; retried until NATS answers."""
        servers, user, password = cluster_servers(self.nats_url)  # every node of a cluster, credentials to each
        while True:
            try:
                return await nats.connect(
                    servers,
                    user=user,
                    password=password,
                    name=f"partnernet-{self.name}-relay",
                    max_reconnect_attempts=-1,  # a broker restart must never end the relay
                    reconnect_time_wait=1,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("relay %s cannot reach NATS yet (%s); retrying", self.name, exc)
                await asyncio.sleep(self.relay.retry_seconds)

    def _stop(self) -> None:
        with self._lock:
            self._stopping = True
            loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the thread's loop has ended already
                loop.call_soon_threadsafe(task.cancel)


def _end(ended: asyncio.Future[None]) -> None:
    if not ended.done():
        ended.set_result(None)


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - it comes with uvicorn's standard extras
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(main)
    else:
        with contextlib.suppress(asyncio.CancelledError):
            uvloop.run(main)
