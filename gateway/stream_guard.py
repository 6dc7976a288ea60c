"""A live stream lasts only as long as its credential: checked again every `stream_recheck_seconds` (a token
that expired, a key that was revoked or whose partner ended, a tenant that no longer holds) and at once when
the partners service says a key was revoked (`api_key.revoked`, heard on NATS by every gateway). When it no
longer holds, the stream says so in a last comment and ends; the client's reconnect then gets a 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID

import msgspec
from litestar.exceptions import NotAuthorizedException
from litestar.response import ServerSentEventMessage

from gateway.auth import Authenticator, Caller, console_session
from shared.contracts import Envelope, nats_subject
from shared.contracts.partners.events import ApiKeyRevoked
from shared.errors import PartnernetError

log = logging.getLogger(__name__)

# Every municipality's revocations: the subject's last two tokens are the tenant.
REVOCATIONS = nats_subject("partners", ApiKeyRevoked.qualified_type(), "*", "*")


class StreamGuard:
    """One open stream's watch over its credential: `ended` is set once the credential no longer holds."""

    def __init__(self, holds: Callable[[], Awaitable[bool]], interval: float) -> None:
        self.holds = holds
        self.interval = interval
        self.ended = asyncio.Event()

    def revoked(self) -> None:
        self.ended.set()

    async def watch(self) -> None:
        while not self.ended.is_set():
            await asyncio.sleep(self.interval)
            if not await self.holds():
                self.ended.set()


class LiveStreams:
    """The gateway's open streams by API key, so a revocation ends them at once; and the key cache to clear."""

    def __init__(self, authenticator: Authenticator, interval: float) -> None:
        self.authenticator = authenticator
        self.interval = interval
        self._by_key: dict[UUID, set[StreamGuard]] = defaultdict(set)

    def guard(self, caller: Caller, headers: Any) -> StreamGuard:
        """A watch over the credential the request came with (the same headers, checked again)."""

        async def holds() -> bool:
            try:
                # The console's pages carry their token in the session cookie instead.
                again = await self.authenticator.authenticate(headers, fresh=True) or await console_session(
                    self.authenticator, headers
                )
            except (NotAuthorizedException, PartnernetError) as exc:
                # Not confirmed is not kept: the client reconnects and is told why (401, or 503 while away).
                log.info("a live stream's credential no longer holds: %s", getattr(exc, "detail", exc))
                return False
            return again is not None and again.actor == caller.actor

        return StreamGuard(holds, self.interval)

    def revoke(self, key_id: UUID) -> None:
        self.authenticator.api_keys.forget_key(key_id)
        for guard in self._by_key.pop(key_id, set()):
            guard.revoked()

    async def follow(
        self, caller: Caller, headers: Any, messages: AsyncIterator[ServerSentEventMessage]
    ) -> AsyncIterator[ServerSentEventMessage]:
        """The messages of a stream, until the credential it was opened with no longer holds.

        The stream's own generator runs in one task of its own (a pump), so ending it early cancels it at whatever
        it waits for (NATS, the partners service, a pause) and its clean-up runs there."""
        guard = self.guard(caller, headers)
        key_id = UUID(caller.api_key_id) if caller.api_key_id else None
        if key_id is not None:
            self._by_key[key_id].add(guard)
        queue: asyncio.Queue[ServerSentEventMessage | BaseException | None] = asyncio.Queue(maxsize=1)

        async def pump() -> None:
            try:
                async for message in messages:
                    await queue.put(message)
            except Exception as exc:  # the route's own error, raised where the response is sent
                await queue.put(exc)
            else:
                await queue.put(None)

        tasks = [asyncio.create_task(guard.watch(), name="live-guard"), asyncio.create_task(pump(), name="live-pump")]
        try:
            while True:
                taken = asyncio.ensure_future(queue.get())
                ended = asyncio.ensure_future(guard.ended.wait())
                await asyncio.wait({taken, ended}, return_when=asyncio.FIRST_COMPLETED)
                ended.cancel()
                if not taken.done():
                    taken.cancel()
                    yield ServerSentEventMessage(comment="the credential no longer holds: sign in again", data=None)
                    return
                item = taken.result()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if key_id is not None:
                self._by_key.get(key_id, set()).discard(guard)


def revocation_handler(streams: LiveStreams) -> Callable[[Any], Awaitable[None]]:
    """For the gateway's NATS subscription to `api_key.revoked` (core NATS: every gateway hears every one)."""

    async def revoked(message: Any) -> None:
        try:
            envelope = msgspec.json.decode(message.data, type=Envelope)
            event = msgspec.convert(envelope.data, ApiKeyRevoked)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            log.warning("an api_key.revoked event that is not one: %s", exc)
            return
        streams.revoke(event.key_id)

    return revoked
