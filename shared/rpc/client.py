"""The caller's side of request/reply (the gateway's): a declared operation called with a deadline; a typed
error in the reply is raised as its exception, a broker or service that does not answer as a 503 or 504."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any, TypeVar, cast

import msgspec
import nats.errors
from nats.aio.client import Client as Nats
from nats.aio.msg import Msg
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer

from shared.errors import ERRORS_BY_CODE, InvalidInput, PartnernetError, ServiceTimeout, ServiceUnavailable
from shared.messaging import broker_answers, broker_backed_up
from shared.operations import Operation
from shared.rpc.envelope import ENCODER, IDEMPOTENT_REQUEST, TRACER_NAME, HandedOver, RpcReply, RpcRequest, traceparent
from shared.telemetry import skips_unsampled_children
from shared.tenancy import Actor

Q = TypeVar("Q")
A = TypeVar("A")

# What a 503 or 504 names when the message broker itself, not a service, failed to answer.
BROKER = "nats"
# A PING/PONG with the broker takes a millisecond; one that takes longer than this means the broker hangs.
BROKER_PING_SECONDS = 0.2
# The status nats-server answers a request with when no subscriber listens on its subject.
NO_RESPONDERS = "503"

_REPLY = msgspec.json.Decoder(RpcReply)


class NoResponders(Exception):
    pass


class RpcClient:
    """Call a declared operation (shared/operations.py): `await rpc.call(GET_REFERRAL, actor, GetReferral(...))`.

    Replies come to one inbox subscription per client (`_INBOX.<id>.<n>`), matched to their caller by a
    counter: nats-py's `request` draws a random token from the operating system and starts a `wait_for`
    for every call, which cost the caller a third more than the call itself.
    """

    def __init__(self, connection: Nats, *, timeout: float, tracer: Tracer | None = None) -> None:
        self.connection = connection
        self.timeout = timeout
        self.tracer = tracer or trace.get_tracer(TRACER_NAME)
        self.skip_unsampled = skips_unsampled_children(self.tracer)
        self._inbox: str | None = None
        self._subscribing = asyncio.Lock()
        self._waiting: dict[str, asyncio.Future[Msg]] = {}
        self._tokens = itertools.count()

    async def call(self, operation: Operation[Q, A], actor: Actor, body: Q, *, timeout: float | None = None) -> A:
        """The operation's reply, decoded (and so checked) as its declared type."""
        result = await self.call_json(operation, actor, body, timeout=timeout)
        return msgspec.json.decode(result, type=operation.reply)

    async def call_json(
        self, operation: Operation[Q, A], actor: Actor, body: Q, *, timeout: float | None = None
    ) -> bytes:
        """The operation's reply as the JSON the service encoded: for a route that passes it on as it is, without
        decoding it and encoding it again (the service encoded it from the declared reply type)."""
        operation.check_role(actor)  # a role that may not ask is refused here, without a round trip
        wait = timeout or self.timeout
        if not self.connection.is_connected:
            # While reconnecting, nats-py would buffer the request and send it later: a command could then be
            # carried out after its caller was told it timed out. Refuse now, so a 503 means "not done".
            raise ServiceUnavailable("the message broker is not reachable", service=BROKER)
        service, subject = operation.service, operation.subject
        span = trace.get_current_span()
        made = span.get_span_context().trace_flags.sampled or not self.skip_unsampled
        if made:  # not made the current span: nothing runs inside it but the wait, and attaching it costs
            span = self.tracer.start_span(f"{subject} request", kind=SpanKind.CLIENT)
        # else its child would not be recorded: the caller's span is passed on instead
        try:
            if span.is_recording():
                span.set_attributes({"messaging.system": "nats", "messaging.destination.name": subject})
            span_context = span.get_span_context()
            idempotent = IDEMPOTENT_REQUEST.get()
            request = RpcRequest(
                actor=actor,
                body=msgspec.Raw(ENCODER.encode(body)),
                deadline=time.time() + wait,
                traceparent=traceparent(span_context) if span_context.is_valid else None,
                idempotency=idempotent.next_call() if idempotent is not None else None,
            )
            payload = ENCODER.encode(request)
            if broker_backed_up(self.connection, len(payload)):
                # It has not read what was sent before (paused, partitioned): this publish would wait for it with no
                # deadline, past the caller's (shared/messaging.py). Refused unsent, so a 503 means "not done".
                raise ServiceUnavailable("the message broker is not taking requests", service=BROKER)
            response = await self._request(subject, payload, wait)
        except NoResponders as exc:
            raise ServiceUnavailable(f"the {service} service does not answer", service=service) from exc
        except TimeoutError as exc:
            if not await broker_answers(self.connection, BROKER_PING_SECONDS):
                # A broker that hangs (paused, partitioned) looks like a slow service; blame the right one.
                raise ServiceTimeout("the message broker did not answer in time", service=BROKER) from exc
            raise ServiceTimeout(f"the {service} service did not answer in time", service=service) from exc
        except nats.errors.MaxPayloadError as exc:
            raise InvalidInput("the request is too large to pass on to the service") from exc
        except (
            nats.errors.ConnectionClosedError,
            nats.errors.ConnectionReconnectingError,
            nats.errors.ConnectionDrainingError,
            nats.errors.OutboundBufferLimitError,
        ) as exc:
            raise ServiceUnavailable("the message broker is not reachable", service=BROKER) from exc
        finally:
            if made:
                span.end()
        reply = _REPLY.decode(response)
        if reply.error is not None:
            error_type = ERRORS_BY_CODE.get(reply.error.code, PartnernetError)
            raise error_type(reply.error.detail, **reply.error.extra)
        return bytes(reply.result)

    async def _request(self, subject: str, payload: bytes, timeout: float) -> bytes:
        inbox = self._inbox or await self._subscribe_inbox()
        token = str(next(self._tokens))
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[Msg] = loop.create_future()
        self._waiting[token] = answered
        timer = loop.call_later(timeout, _expire, answered)
        try:
            await self.connection.publish(subject, payload, reply=inbox + token)
            msg = await answered
        finally:
            timer.cancel()
            self._waiting.pop(token, None)
        if msg.headers and msg.headers.get("Status") == NO_RESPONDERS:
            raise NoResponders(subject)
        return msg.data

    async def _subscribe_inbox(self) -> str:
        async with self._subscribing:
            if self._inbox is None:
                prefix = self.connection.new_inbox() + "."
                # Replies handed over as the read loop parses them (`HandedOver`), not through a callback's queue.
                await self.connection.subscribe(prefix + "*", future=cast(Any, HandedOver(self._replied)))
                self._inbox = prefix
            return self._inbox

    def _replied(self, msg: Msg) -> None:
        assert self._inbox is not None
        answered = self._waiting.pop(msg.subject[len(self._inbox) :], None)
        if answered is not None and not answered.done():
            answered.set_result(msg)


def _expire(answered: asyncio.Future[Any]) -> None:
    if not answered.done():
        answered.set_exception(TimeoutError())
