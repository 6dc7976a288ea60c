"""Request/reply over NATS: the gateway's commands and queries, with the actor, deadlines and typed errors.

Subjects are `rpc.<service>.<operation>`; each service answers in its own queue group so replicas
share the load. A reply is either a result or a typed error that the gateway maps to problem details.

Carried on nats-py directly, not on FastStream's request/reply: FastStream's per-message machinery
(context, logging and telemetry middlewares, its decoder chain) cost more than ten times what NATS
itself does (benchmarks/: 5-9% of raw request/reply); here the whole layer is a decode, a span, the
use case, an encode and a publish. FastStream keeps what it is good at: the JetStream consumers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

import asyncpg
import msgspec
import nats.errors
import sqlalchemy.exc
from nats.aio.client import Client as Nats
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.errors import ERRORS_BY_CODE, Forbidden, InvalidInput, PartnernetError, ServiceTimeout, ServiceUnavailable
from shared.messaging import broker_answers
from shared.operations import Operation, rpc_subject
from shared.telemetry import skips_unsampled_children
from shared.tenancy import Actor, Role

log = logging.getLogger(__name__)

B = TypeVar("B")
R = TypeVar("R")
Q = TypeVar("Q")
A = TypeVar("A")


class RpcRequest(msgspec.Struct, frozen=True, kw_only=True):
    actor: Actor
    body: msgspec.Raw = msgspec.Raw(b"{}")
    # When the caller stops waiting (Unix time, seconds). A request still queued in a busy replica past it
    # is dropped unanswered-for-work: nobody waits for the answer, and doing it would only add to the load.
    deadline: float | None = None
    # The caller's span (W3C trace context), so the service's work joins the request's trace. In the envelope
    # rather than in a NATS header: headers cost every hop (client, server and nats-server) a parse.
    traceparent: str | None = None


class RpcError(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    detail: str
    extra: dict[str, Any] = {}


class RpcReply(msgspec.Struct, frozen=True, kw_only=True):
    # msgspec cannot decode `Raw | None`, so a missing result is the JSON `null`.
    result: msgspec.Raw = msgspec.Raw(b"null")
    error: RpcError | None = None


# Clocks of the gateway's and a service's hosts may differ a little: a deadline counts only once clearly past.
DEADLINE_GRACE_SECONDS = 0.5

# Requests of one operation a replica handles at once; more wait in the connection's pending buffer.
DEFAULT_CONCURRENCY = 32

# How long a stopping replica lets the requests it has started finish before it closes the connection.
GRACEFUL_STOP_SECONDS = 10.0

TRACER_NAME = "partnernet.rpc"
_TRACE_CONTEXT = TraceContextTextMapPropagator()
_REQUEST = msgspec.json.Decoder(RpcRequest)
_REPLY = msgspec.json.Decoder(RpcReply)
_ENCODER = msgspec.json.Encoder()


class Responder:
    """One operation of one replica: decode the request, run the use case, reply with its result or typed error.

    Up to `concurrency` requests run at once, each in a task of its own; further ones wait in nats-py's
    pending buffer of the subscription (its limits make a flood a slow-consumer error, not unbounded memory).
    """

    def __init__(
        self,
        service: str,
        operation: str,
        body_type: type[B],
        use_case: Callable[[Actor, B], Awaitable[Any]],
        *,
        tracer: Tracer,
        concurrency: int = DEFAULT_CONCURRENCY,
        roles: frozenset[Role] | None = None,
    ) -> None:
        self.service = service
        self.roles = roles
        self.operation = operation
        self.subject = rpc_subject(service, operation)
        self.use_case: Callable[[Actor, Any], Awaitable[Any]] = use_case
        self.tracer = tracer
        self.body = msgspec.json.Decoder(body_type)
        self.slots = asyncio.Semaphore(max(concurrency, 1))
        self.running: set[asyncio.Task[None]] = set()
        self.span_name = f"{self.subject} process"
        self.skip_unsampled = skips_unsampled_children(tracer)
        self._nats: Nats | None = None

    async def subscribe(self, connection: Nats) -> Subscription:
        self._nats = connection
        return await connection.subscribe(self.subject, queue=self.service, cb=self._received)

    async def _received(self, msg: Msg) -> None:
        await self.slots.acquire()  # at the limit, the subscription stops taking messages until one finishes
        task = asyncio.get_running_loop().create_task(self._handle(msg))
        self.running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        self.slots.release()

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
                span.set_attributes(
                    {
                        "messaging.system": "nats",
                        "messaging.destination.name": self.subject,
                        "enduser.id": request.actor.subject,
                        "enduser.role": request.actor.role.value,
                    }
                )
                if request.actor.partner is not None:  # the organisation a partner's person or key acts for
                    span.set_attribute("partnernet.partner", request.actor.partner)
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
            if self.roles is not None and request.actor.role not in self.roles:
                raise Forbidden(f"role {request.actor.role.value} may not do this ({self.service}.{self.operation})")
            result = await self.use_case(request.actor, command)
        except PartnernetError as exc:
            return encode_error(exc)
        except (sqlalchemy.exc.DBAPIError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            # (asyncpg's own errors: from reads on a direct connection, shared/db.py DirectReads)
            return encode_error(database_error(exc, f"{self.service}.{self.operation}"))
        except Exception:
            log.exception("operation %s failed", self.subject)
            return encode_error(PartnernetError("the service failed to handle the request"))
        return b'{"result":' + _ENCODER.encode(result) + b"}"


class RpcServer:
    """The operations one service replica answers, subscribed in the service's queue group once it connects."""

    def __init__(self, service: str, tracer: Tracer, *, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self.service = service
        self.tracer = tracer
        self.concurrency = concurrency
        self.responders: dict[str, Responder] = {}
        self._subscriptions: list[Subscription] = []

    def answer(
        self,
        operation: str,
        body_type: type[B],
        use_case: Callable[[Actor, B], Awaitable[Any]],
        *,
        roles: frozenset[Role] | None = None,
    ) -> None:
        """An operation by name (the old way; `bind` takes a declaration from the contracts)."""
        if operation in self.responders:
            raise ValueError(f"operation {self.service}.{operation} is answered twice")
        self.responders[operation] = Responder(
            self.service, operation, body_type, use_case, tracer=self.tracer, concurrency=self.concurrency, roles=roles
        )

    def bind(self, operation: Operation[Q, A], use_case: Callable[[Actor, Q], Awaitable[A]]) -> None:
        """Answer a declared operation (shared/operations.py) with its use case; its roles are checked first."""
        if operation.service != self.service:
            raise ValueError(f"{operation!r} is not an operation of the {self.service} service")
        self.answer(operation.name, operation.request, use_case, roles=operation.roles)

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
        running = [task for responder in self.responders.values() for task in responder.running]
        if running:
            _, late = await asyncio.wait(running, timeout=timeout)
            for task in late:
                task.cancel()


# PostgreSQL's words for text it cannot store (a NUL character, say): the request's fault, not ours.
UNSTORABLE_TEXT = {"22021", "22P05"}


# ... and for numbers and dates beyond what a column holds.
OUT_OF_RANGE = {"22003", "22008"}


# PostgreSQL's class 53: too many connections, out of memory, disk full: the server's state, not the request's.
INSUFFICIENT_RESOURCES = "53"


# Errors that mean the connection to PostgreSQL is gone (a restart, a network cut), not a bad statement.
LOST_CONNECTION = (
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.OperatorInterventionError,
)


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def database_error(exc: Exception, operation: str) -> PartnernetError:
    """What to answer when the database refused or could not be reached: only a real fault is a 500."""
    orig = getattr(exc, "orig", exc)  # SQLAlchemy wraps the driver's error; a direct read raises it as it is
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate in UNSTORABLE_TEXT:
        return InvalidInput("the text contains characters that cannot be stored (such as the NUL character)")
    if sqlstate in OUT_OF_RANGE or any(_is_unencodable_argument(cause) for cause in _causes(exc)):
        return InvalidInput("a value is out of the range it can have (a number beyond 64 bits, say)")
    if sqlstate.startswith(INSUFFICIENT_RESOURCES):
        log.warning("operation %s: the database has no room (%s)", operation, sqlstate)
        return ServiceUnavailable("the database is busy; try again shortly")
    invalidated = getattr(exc, "connection_invalidated", False)
    if invalidated or any(isinstance(cause, LOST_CONNECTION) for cause in _causes(exc)):
        log.warning("operation %s: the database is not reachable", operation)
        return ServiceUnavailable("the service cannot reach its database; try again shortly")
    log.error("operation %s failed in the database", operation, exc_info=exc)
    return PartnernetError("the service failed to handle the request")


def _is_unencodable_argument(exc: BaseException) -> bool:
    """A query argument asyncpg could not encode (a number beyond 64 bits, say), refused before it reached the
    server: a DataError raised from the encoder's own error, where the server's DataErrors have no cause."""
    return isinstance(exc, asyncpg.exceptions.DataError) and exc.__cause__ is not None


def encode_error(exc: PartnernetError) -> bytes:
    return _ENCODER.encode(RpcReply(error=RpcError(code=exc.code, detail=exc.detail, extra=exc.extra)))


def traceparent(span_context: trace.SpanContext) -> str:
    """The W3C `traceparent` of a span: written by hand, as the propagator's generic path costs more."""
    return f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{int(span_context.trace_flags):02x}"


def caller_context(value: str | None) -> tuple[Context | None, bool]:
    """The caller's span from a request's `traceparent` and whether it is sampled: version 00 read by hand
    (the propagator's generic path costs more), anything else by the propagator."""
    if not value:
        return None, False
    version, _, rest = value.partition("-")
    if version != "00" or len(value) != 55:
        context = _TRACE_CONTEXT.extract({"traceparent": value})
        return context, trace.get_current_span(context).get_span_context().trace_flags.sampled
    try:
        trace_id, span_id, flags = int(rest[:32], 16), int(rest[33:49], 16), int(rest[50:], 16)
    except ValueError:
        return None, False
    span_context = trace.SpanContext(trace_id, span_id, is_remote=True, trace_flags=trace.TraceFlags(flags & 1))
    if not span_context.is_valid:
        return None, False
    return trace.set_span_in_context(trace.NonRecordingSpan(span_context)), span_context.trace_flags.sampled


# What a 503 or 504 names when the message broker itself, not a service, failed to answer.
BROKER = "nats"
# A PING/PONG with the broker takes a millisecond; one that takes longer than this means the broker hangs.
BROKER_PING_SECONDS = 0.2


class RpcClient:
    """The gateway's side: call an operation with a deadline; errors come back as the typed exceptions.

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

    @overload
    async def call(
        self, operation: Operation[Q, A], actor: Actor, body: Q, /, *, timeout: float | None = None
    ) -> A: ...

    @overload
    async def call(
        self,
        service: str,
        operation: str,
        actor: Actor,
        body: Any,
        result_type: type[R],
        /,
        *,
        timeout: float | None = None,
    ) -> R: ...

    async def call(self, *args: Any, timeout: float | None = None) -> Any:
        """`call(DECLARED_OPERATION, actor, body)`; the old `call(service, operation, actor, body, reply_type)`
        stays until every route uses the declarations (shared/operations.py)."""
        if isinstance(args[0], Operation):
            operation, actor, body = args
            operation.check_role(actor)  # a role that may not ask is refused here, without a round trip
            return await self._call(operation.service, operation.name, actor, body, operation.reply, timeout)
        service, name, actor, body, reply_type = args
        return await self._call(service, name, actor, body, reply_type, timeout)

    async def _call(
        self, service: str, operation: str, actor: Actor, body: Any, result_type: type[R], timeout: float | None
    ) -> R:
        wait = timeout or self.timeout
        if not self.connection.is_connected:
            # While reconnecting, nats-py would buffer the request and send it later: a command could then be
            # carried out after its caller was told it timed out. Refuse now, so a 503 means "not done".
            raise ServiceUnavailable("the message broker is not reachable", service=BROKER)
        subject = rpc_subject(service, operation)
        span = trace.get_current_span()
        made = span.get_span_context().trace_flags.sampled or not self.skip_unsampled
        if made:  # not made the current span: nothing runs inside it but the wait, and attaching it costs
            span = self.tracer.start_span(f"{subject} request", kind=SpanKind.CLIENT)
        # else its child would not be recorded: the caller's span is passed on instead
        try:
            if span.is_recording():
                span.set_attributes({"messaging.system": "nats", "messaging.destination.name": subject})
            span_context = span.get_span_context()
            request = RpcRequest(
                actor=actor,
                body=msgspec.Raw(_ENCODER.encode(body)),
                deadline=time.time() + wait,
                traceparent=traceparent(span_context) if span_context.is_valid else None,
            )
            response = await self._request(subject, _ENCODER.encode(request), wait)
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
        return msgspec.json.decode(reply.result, type=result_type)

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
                await self.connection.subscribe(prefix + "*", cb=self._replied)
                self._inbox = prefix
            return self._inbox

    async def _replied(self, msg: Msg) -> None:
        assert self._inbox is not None
        answered = self._waiting.pop(msg.subject[len(self._inbox) :], None)
        if answered is not None and not answered.done():
            answered.set_result(msg)


# The status nats-server answers a request with when no subscriber listens on its subject.
NO_RESPONDERS = "503"


class NoResponders(Exception):
    pass


def _expire(answered: asyncio.Future[Msg]) -> None:
    if not answered.done():
        answered.set_exception(TimeoutError())
