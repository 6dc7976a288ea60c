"""Pulls a durable JetStream consumer's messages on nats-py, one pull request open at the server at a time, so a
message is handled as soon as it arrives (shared/consumer.py says why not FastStream's batches or `fetch`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Sequence

import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

log = logging.getLogger(__name__)

PULL_SECONDS = 5.0  # a pull request's life at the server; a quiet consumer renews it this often


class Puller:
    """Pulls a durable consumer's messages: one pull request open at the server at a time, asking for up to
    `batch_size` messages and living PULL_SECONDS; the messages come as they are published.

    `next_batch` waits for the first message and takes everything that arrived with it (with a linger: in that
    time after it). A request that has delivered all it asked for, or ended (the server's 408 at its expiry, a
    409), is followed by the next at once, before the batch is handled, so the server keeps sending while the
    consumer works. A request lost with a broker restart is renewed when it would have expired.
    """

    def __init__(
        self, connection: NATS, stream: str, durable: str, batch_size: int, linger_seconds: float = 0.0
    ) -> None:
        self._nc = connection
        self.linger_seconds = linger_seconds  # how long a first message waits for others to join its batch
        self._next = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.durable = durable
        self.batch_size = batch_size
        self._sub: Subscription | None = None
        # What the server sent, as nats-py hands it to the subscription's callback. Taken from here a batch at a
        # time: nats-py's `next_msg` made two tasks, a wait_for and a uuid for every message (~50 µs each on this
        # 2-core machine, for each of the four consumers of every referral event, issue 17's ninth round).
        self._arrivals: deque[Msg] = deque()
        self._arrived = asyncio.Event()
        self._inbox = ""
        self._credit = 0  # messages the open request may still deliver
        self._expires_at = 0.0
        self.stopping = False
        self._idle = asyncio.Event()  # set while no batch is in hand
        self._idle.set()

    async def subscribe(self) -> None:
        self._inbox = self._nc.new_inbox()
        self._sub = await self._nc.subscribe(self._inbox, cb=self._arrive)

    async def _arrive(self, msg: Msg) -> None:
        self._arrivals.append(msg)
        self._arrived.set()

    def _take(self) -> list[Msg]:
        taken = list(self._arrivals)
        self._arrivals.clear()
        return taken

    async def _request(self) -> None:
        loop = asyncio.get_running_loop()
        request = {"batch": self.batch_size, "expires": int(PULL_SECONDS * 1e9)}
        await self._nc.publish(self._next, json.dumps(request).encode(), reply=self._inbox)
        self._credit = self.batch_size
        self._expires_at = loop.time() + PULL_SECONDS

    async def next_batch(self) -> list[Msg]:
        """The next messages in stream order (none when a request ended without any)."""
        assert self._sub is not None
        self._idle.set()
        loop = asyncio.get_running_loop()
        if self._credit <= 0 or loop.time() >= self._expires_at:
            await self._request()
        if not self._arrivals:
            self._arrived.clear()
            try:
                # A little past the request's expiry: its 408 normally comes first, and ends the wait.
                async with asyncio.timeout(max(self._expires_at - loop.time(), 0.0) + 1.0):
                    await self._arrived.wait()
            except TimeoutError:
                self._credit = 0  # the request was lost (a broker restart): renew it
                return []
        self._idle.clear()
        if self.stopping:
            await self._give_back(self._take())
            return []
        if self.linger_seconds and len(self._arrivals) < self._credit:
            await asyncio.sleep(self.linger_seconds)  # the request may bring more: let them join this batch
        arrived = self._take()
        batch: list[Msg] = []
        for msg in arrived:
            status = msg.headers.get("Status") if msg.headers and not msg.data else None
            if status is None:
                batch.append(msg)
                self._credit -= 1
            elif status == "100":  # an idle heartbeat
                continue
            else:  # 404/408: the request ended; 409: the server ended it (limits, leadership, shutdown)
                self._credit = 0
                if status not in ("404", "408"):
                    log.debug("pull request of %s ended: %s %s", self.durable, status, msg.headers)
                    if status == "409" and "deleted" in str(msg.headers).lower():
                        raise nats.js.errors.NotFoundError(description=f"consumer {self.durable} was deleted")
                    if status == "503":
                        raise nats.js.errors.ServiceUnavailableError(description="JetStream is not available")
        if self._credit <= 0 and not self.stopping:
            await self._request()  # the server sends the next ones while this batch is handled
        return batch

    def put_down(self) -> None:
        """The batch `next_batch` gave is handled (or its handling failed): a stop need not wait for it."""
        self._idle.set()

    async def _give_back(self, msgs: Sequence[Msg]) -> None:
        for msg in msgs:
            if msg.reply and not (msg.headers and msg.headers.get("Status")):
                with contextlib.suppress(Exception):
                    await msg.nak()

    async def stop(self, seconds: float) -> None:
        """No new batch; the one in hand may finish; what the server sent meanwhile goes back to it at once."""
        self.stopping = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), seconds)
        if self._sub is not None:
            await asyncio.sleep(0)  # what nats-py has read and not yet handed over joins the rest
            await self._give_back(self._take())
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
