"""Pull consumers survive empty fetches: the workaround in shared/messaging.py, and why it is still needed."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import nats
import nats.errors
import pytest
from faststream.nats import JStream, PullSub
from faststream.nats.subscriber.usecases import stream_pull_subscriber
from nats.aio.msg import Msg
from nats.js import api
from nats.js.client import JetStreamContext

from shared.broker import create_broker, empty_fetches_time_out_as_nats_errors
from shared.telemetry import setup_telemetry
from tests.waiting import eventually

# Eight consumers, each fetching ten times a second while idle, for about three seconds: what a run of a few
# percent of races (nats-py's plain TimeoutError) is sure to turn up in.
EMPTY_FETCHES = 240


class ServerAnswersAtTheDeadline:
    """A pull subscription's inbox where the server's "408 Request Timeout" arrives as the client's deadline ends:
    what happens to an empty fetch now and then on a real server (a race nats-py loses a few times in a hundred)."""

    def __init__(self) -> None:
        self._pending_queue: asyncio.Queue[Msg] = asyncio.Queue()
        self._pending_size = 0

    async def next_msg(self, timeout: float | None = None) -> Msg:
        await asyncio.sleep(timeout or 0)
        return Msg(None, subject="_INBOX.x", headers={api.Header.STATUS: api.StatusCode.REQUEST_TIMEOUT})  # type: ignore[arg-type]


class Connection:
    async def publish(self, *args: Any, **kwargs: Any) -> None:
        return None


def empty_pull_subscription() -> Any:
    subscription: Any = object.__new__(JetStreamContext.PullSubscription)
    subscription._sub, subscription._nc = ServerAnswersAtTheDeadline(), Connection()
    subscription._nms, subscription._deliver = "$JS.API.CONSUMER.MSG.NEXT.S.C", "_INBOX.x"
    return subscription


async def test_upstream_still_needs_the_workaround() -> None:
    """Fails once nats-py raises its own TimeoutError on an empty fetch, or FastStream also catches the plain one:
    then remove `empty_fetches_time_out_as_nats_errors` from shared/broker.py (and this test)."""
    empty_fetches_time_out_as_nats_errors()
    upstream_fetch = JetStreamContext.PullSubscription.fetch.__wrapped__  # type: ignore[attr-defined]
    with pytest.raises(asyncio.TimeoutError) as raised:
        await upstream_fetch(empty_pull_subscription(), batch=32, timeout=0.05)
    assert not isinstance(raised.value, nats.errors.TimeoutError), "nats-py fixed it: remove the workaround"
    # What FastStream's pull loop suppresses around its fetch: only nats-py's own TimeoutError.
    assert stream_pull_subscriber.TimeoutError is nats.errors.TimeoutError, "FastStream changed: check the loop"


async def test_an_empty_fetch_times_out_as_the_nats_timeout_that_faststream_expects() -> None:
    empty_fetches_time_out_as_nats_errors()
    empty_fetches_time_out_as_nats_errors()  # applying it twice wraps once
    fetch = JetStreamContext.PullSubscription.fetch
    assert not getattr(fetch.__wrapped__, "partnernet_patched", False)  # type: ignore[attr-defined]
    with pytest.raises(nats.errors.TimeoutError):
        await fetch(empty_pull_subscription(), batch=32, timeout=0.05)


async def test_idle_pull_consumers_run_for_seconds_without_a_crash_or_restart(
    nats_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight idle consumers, each fetching ten times a second: some hundreds of empty fetches, none fatal."""
    suffix = uuid.uuid4().hex[:8]
    stream, subject = f"IDLE_{suffix}", f"idle.{suffix}"
    nc = await nats.connect(nats_url)
    await nc.jetstream().add_stream(name=stream, subjects=[f"{subject}.>"])
    broker = create_broker(nats_url, name="idle-test", telemetry=setup_telemetry("idle-test", otlp_endpoint=None))
    handled: list[Any] = []

    async def handle(body: Any) -> None:
        handled.append(body)

    subscribers = []
    for number in range(8):
        subscriber = broker.subscriber(
            f"{subject}.{number}",
            stream=JStream(stream, declare=False),
            durable=f"idle-{suffix}-{number}",
            pull_sub=PullSub(batch_size=32, timeout=0.1),
        )
        subscriber(handle)
        subscribers.append(subscriber)
    caplog.set_level(logging.INFO, logger="faststream")
    # Counted, not waited for: the empty fetches of this test's stream (others' consumers may share the process).
    empty_fetches = 0
    fetch = JetStreamContext.PullSubscription.fetch  # with the workaround, which create_broker applied

    async def counted_fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal empty_fetches
        try:
            return await fetch(self, *args, **kwargs)
        except nats.errors.TimeoutError:
            if self._stream == stream:
                empty_fetches += 1
            raise

    monkeypatch.setattr(JetStreamContext.PullSubscription, "fetch", counted_fetch)
    try:
        await broker.start()

        async def idle_long_enough() -> bool:
            return empty_fetches >= EMPTY_FETCHES

        await eventually(idle_long_enough, timeout=60, what=f"{EMPTY_FETCHES} empty fetches")
        restarted = {number: len(s.tasks) for number, s in enumerate(subscribers) if len(s.tasks) != 1}
        crashed = [r.getMessage() for r in caplog.records if "raised an exception" in r.getMessage()]
        # Still consuming after all that waiting.
        await nc.jetstream().publish(f"{subject}.0", b"after the wait", stream=stream)

        async def consumed() -> bool:
            return bool(handled)

        await eventually(consumed, what="the message published after the wait")
    finally:
        await broker.stop()
        await nc.jetstream().delete_stream(stream)
        await nc.close()
    assert restarted == {}, "a consumer's task died and was started again"
    assert crashed == []
    assert len(handled) == 1
