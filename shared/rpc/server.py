"""A service's side of request/reply: each declared operation answered in the service's queue group, the actor's
role checked against the declaration, the use case run, its result or typed error sent back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import asyncpg
import msgspec
import nats.errors
import sqlalchemy.exc
from nats.aio.client import Client as Nats
from nats.aio.msg import Msg
from nats.aio.subscription import DEFAULT_SUB_PENDING_BYTES_LIMIT, DEFAULT_SUB_PENDING_MSGS_LIMIT, Subscription
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer

from shared.errors import Forbidden, InvalidInput, PartnernetError, ServiceTimeout
from shared.operations import Operation
from shared.rpc.database_errors import database_error
from shared.rpc.envelope import HandedOver, RpcRequest, caller_context, encode_error, encode_result
from shared.telemetry import skips_unsampled_children, tag_span_with_actor
from shared.tenancy import Actor

if TYPE_CHECKING:  # shared.idempotency builds on the envelope of this package
    from shared.idempotency import ReplyStore

log = logging.getLogger("shared.rpc")

Q = TypeVar("Q")
A = TypeVar("A")

# Clocks of the gateway's and a service's hosts may differ a little: a deadline counts only once clearly past.
DEADLINE_GRACE_SECONDS = 0.5

# Requests of one operation a replica handles at once; more wait in the connection's pending buffer.
DEFAULT_CONCURRENCY = 32

# How long a stopping replica lets the requests it has started finish before it closes the connection.
GRACEFUL_STOP_SECONDS = 10.0

# Requests one operation of a replica keeps waiting beyond its concurrency: nats-py's limits for a subscription.
PENDING_MSGS_LIMIT = DEFAULT_SUB_PENDING_MSGS_LIMIT
PENDING_BYTES_LIMIT = DEFAULT_SUB_PENDING_BYTES_LIMIT

_REQUEST = msgspec.json.Decoder(RpcRequest)


class Responder:
    """One operation of one replica: decode the request, run the use case, reply with its result or typed error.

    Up to `concurrency` requests run at once, each in a task of its own, started as the connection's read loop
    parses the request (`HandedOver`); further ones wait in the responder's backlog, in the order they came, up
    to nats-py's limits for a subscription's pending messages (beyond them a request is dropped and logged, as
    nats-py's slow-consumer error dropped it: its caller times out). A subscription with a callback queued each
    request for a task of the subscription's own, which then started the request's task: two event-loop
    iterations between a request's arrival and its handling (each behind everything else ready in the service's
    loop), where this takes one.
    """

    def __init__(
        self,
        operation: Operation[Any, Any],
        use_case: Callable[[Actor, Any], Awaitable[Any]],
        *,
        tracer: Tracer,
        concurrency: int = DEFAULT_CONCURRENCY,
        replies: ReplyStore | None = None,
    ) -> None:
        self.service = operation.service
        self.replies = replies
        self.roles = operation.roles
        self.operation = operation.name
        self.subject = operation.subject
        self.use_case = use_case
        self.tracer = tracer
        self.body = msgspec.json.Decoder(operation.request)
        self.concurrency = max(concurrency, 1)
        self.running: set[asyncio.Task[None]] = set()
        self.backlog: deque[Msg] = deque()
        self._backlog_bytes = 0
        self._stopping = False
        self.span_name = f"{self.subject} process"
        self.skip_unsampled = skips_unsampled_children(tracer)
        self._nats: Nats | None = None

    async def subscribe(self, connection: Nats) -> Subscription:
        self._nats = connection
        self._stopping = False
        handed_over = cast(Any, HandedOver(self._received))
        return await connection.subscribe(self.subject, queue=self.service, future=handed_over)

    def _received(self, msg: Msg) -> None:
        if self._stopping:
            return  # unsubscribed: as a subscription's queued messages were, it is not handled
        if len(self.running) < self.concurrency:
            self._start(msg)
        elif len(self.backlog) >= PENDING_MSGS_LIMIT or self._backlog_bytes + len(msg.data) > PENDING_BYTES_LIMIT:
            log.warning("operation %s: request dropped, %d waiting already", self.subject, len(self.backlog))
        else:
            self.backlog.append(msg)
            self._backlog_bytes += len(msg.data)

    def _start(self, msg: Msg) -> None:
        task = asyncio.get_running_loop().create_task(self._handle(msg))
        self.running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        if self.backlog and not self._stopping:
            msg = self.backlog.popleft()
            self._backlog_bytes -= len(msg.data)
            self._start(msg)

    def stop_taking(self) -> None:
        """Start no more requests: the backlog is dropped (as the subscription's queue was on unsubscribing)."""
        self._stopping = True
        self.backlog.clear()
        self._backlog_bytes = 0

    async def _handle(self, msg: Msg) -> None:
        reply = await self.respond(msg.data)
        if msg.reply and self._nats is not None:
            await self._send(msg.reply, reply)

    async def _send(self, inbox: str, reply: bytes) -> None:
        assert self._nats is not None
        try:
            await self._nats.publish(inbox, reply)
        except nats.errors.MaxPayloadError:
            log.error("operation %s answered more than NATS carries in one message", self.subject)
            await self._nats.publish(inbox, encode_error(PartnernetError("the answer is too large to send")))
        except nats.errors.Error:
            log.warning("operation %s: the answer could not be sent (connection lost)", self.subject)

    async def respond(self, data: bytes) -> bytes:
        try:
            request = _REQUEST.decode(data)
            command = self.body.decode(request.body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return encode_error(InvalidInput(str(exc)))
        parent, sampled = caller_context(request.traceparent)
        made = parent is None or sampled or not self.skip_unsampled
        if made or parent is None:
            span = self.tracer.start_span(self.span_name, context=parent, kind=SpanKind.SERVER)
            token = otel_context.attach(trace.set_span_in_context(span, parent))
        else:  # a span that would not be recorded: the caller's is carried on (the same trace id in the logs)
            span = trace.get_current_span(parent)
            token = otel_context.attach(parent)
        try:
            if span.is_recording():
                span.set_attributes({"messaging.system": "nats", "messaging.destination.name": self.subject})
                actor = request.actor  # a partner's person or key: the organisation it acts for too
                tag_span_with_actor(span, subject=actor.subject, role=actor.role.value, partner=actor.partner)
            return await self._run(request, command)
        finally:
            otel_context.detach(token)
            if made:
                span.end()

    async def _run(self, request: RpcRequest, command: Any) -> bytes:
        if request.deadline is not None and time.time() > request.deadline + DEADLINE_GRACE_SECONDS:
            log.warning("operation %s dropped: its caller stopped waiting before it started", self.subject)
            busy = ServiceTimeout(f"the {self.service} service was too busy to start in time", service=self.service)
            return encode_error(busy)
        try:
            if request.actor.role not in self.roles:
                raise Forbidden(f"role {request.actor.role.value} may not do this ({self.service}.{self.operation})")
            if request.idempotency is not None and self.replies is not None:
                # Run once per key, the key recorded in the change's transaction (shared/idempotency.py).
                return await self.replies.once(
                    self.subject,
                    request.actor,
                    request.idempotency,
                    lambda: self.use_case(request.actor, command),
                    encode_result,
                )
            result = await self.use_case(request.actor, command)
        except PartnernetError as exc:
            return encode_error(exc)
        except (sqlalchemy.exc.DBAPIError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            # (asyncpg's own errors: from reads on a direct connection, shared/db.py DirectReads)
            return encode_error(database_error(exc, f"{self.service}.{self.operation}"))
        except Exception:
            log.exception("operation %s failed", self.subject)
            return encode_error(PartnernetError("the service failed to handle the request"))
        return encode_result(result)


class RpcServer:
    """The operations one service replica answers, subscribed in the service's queue group once it connects."""

    def __init__(
        self,
        service: str,
        tracer: Tracer,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        replies: ReplyStore | None = None,
    ) -> None:
        """`replies`: where calls with an `Idempotency-Key` are run once and their replies kept (the service's
        database); without it the key is ignored."""
        self.service = service
        self.tracer = tracer
        self.concurrency = concurrency
        self.replies = replies
        self.responders: dict[str, Responder] = {}
        self._subscriptions: list[Subscription] = []

    def bind(self, operation: Operation[Q, A], use_case: Callable[[Actor, Q], Awaitable[A]]) -> None:
        """Answer a declared operation (shared/operations.py) with its use case; its roles are checked first."""
        if operation.service != self.service:
            raise ValueError(f"{operation!r} is not an operation of the {self.service} service")
        if operation.name in self.responders:
            raise ValueError(f"operation {self.service}.{operation.name} is answered twice")
        self.responders[operation.name] = Responder(
            operation, use_case, tracer=self.tracer, concurrency=self.concurrency, replies=self.replies
        )

    async def start(self, connection: Nats) -> None:
        for responder in self.responders.values():
            self._subscriptions.append(await responder.subscribe(connection))
        # A core subscription is only certain to be on the server after a flush.
        await connection.flush(timeout=5)

    async def stop(self, timeout: float = GRACEFUL_STOP_SECONDS) -> None:
        """Take no more requests, and let the ones under way answer (for at most `timeout` seconds)."""
        for subscription in self._subscriptions:
            with contextlib.suppress(Exception):  # a connection that is away cannot unsubscribe
                await subscription.unsubscribe()
        self._subscriptions.clear()
        for responder in self.responders.values():
            responder.stop_taking()
        running = [task for responder in self.responders.values() for task in responder.running]
        if running:
            _, late = await asyncio.wait(running, timeout=timeout)
            for task in late:
                task.cancel()
