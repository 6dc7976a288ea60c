"""Events arrive asynchronously, by design: a test waits for a condition, never for a while."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec
import nats
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from shared.contracts import Envelope
from shared.messaging import event_stream_name

T = TypeVar("T")

# How long a test waits for a condition unless it says otherwise: an upper bound, never the expected time. What
# takes well under a second on a quiet machine took several at a load of 18 on the 2-core CI machine; the bound is
# for a machine five times slower than a quiet one and more, and costs only a failing test its time.
PATIENCE_SECONDS = 30.0


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = PATIENCE_SECONDS, what: str = ""
) -> T:
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


async def stream_messages(nats_url: str, stream: str, subject: str) -> list[Msg]:
    """Every message a stream holds on a subject (wildcards allowed), oldest first: as many as a new consumer counts
    pending when it is made, read however slowly they come. A quiet gap is no sign of the end: on a loaded machine
    the first message of a new consumer came more than 0.3 s after it was made, and a read that stopped there
    returned none."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        everything = ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=60)
        subscription = await js.pull_subscribe(subject, stream=stream, config=everything)
        held = (await subscription.consumer_info()).num_pending or 0
        found: list[Msg] = []
        deadline = time.monotonic() + PATIENCE_SECONDS
        while len(found) < held:
            try:
                found += await subscription.fetch(min(500, held - len(found)), timeout=2)
            except nats.errors.TimeoutError:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"{len(found)} of the {held} messages on {subject} in {PATIENCE_SECONDS}s"
                    ) from None
        await subscription.unsubscribe()
        return found
    finally:
        await nc.close()
