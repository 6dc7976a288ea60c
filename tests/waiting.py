"""Events arrive asynchronously, by design: a test waits for a condition, never for a while."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec
import nats
import nats.js.errors

from shared.contracts import Envelope
from shared.messaging import event_stream_name

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout: float = 15.0, what: str = "") -> T:
    """Poll until the probe returns something truthy: events arrive asynchronously, by design."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or probe}")
        await asyncio.sleep(0.05)


async def last_event(nats_url: str, service: str, subject: str) -> Envelope | None:
    """The last event a service published on a subject (read back from its stream), or None: a probe to wait on."""
    nc = await nats.connect(nats_url)
    try:
        message = await nc.jetstream().get_last_msg(event_stream_name(service), subject)
    except nats.js.errors.NotFoundError:
        return None
    finally:
        await nc.close()
    return msgspec.json.decode(message.data or b"", type=Envelope)
