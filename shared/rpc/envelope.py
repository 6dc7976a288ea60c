"""What travels over NATS for one operation: the request's envelope (actor, deadline, trace context), the reply
(a result or a typed error), and the W3C trace context written and read by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import msgspec
from nats.aio.msg import Msg
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.errors import PartnernetError
from shared.tenancy import Actor


class Idempotency(msgspec.Struct, frozen=True, kw_only=True):
    """The caller's `Idempotency-Key` of the request this call is part of (shared/idempotency.py).

    `request` is the caller's fingerprint of its whole request (the gateway's: method, path, query and body),
    so that the same key sent with another request is told apart from a retry; `call` counts the calls one
    request makes (a route may call more than one operation), each of them kept apart.
    """

    key: str
    request: str
    call: int = 0


class RpcRequest(msgspec.Struct, frozen=True, kw_only=True):
    actor: Actor
    body: msgspec.Raw = msgspec.Raw(b"{}")
    # When the caller stops waiting (Unix time, seconds). A request still queued in a busy replica past it
    # is dropped unanswered-for-work: nobody waits for the answer, and doing it would only add to the load.
    deadline: float | None = None
    # The caller's span (W3C trace context), so the service's work joins the request's trace. In the envelope
    # rather than in a NATS header: headers cost every hop (client, server and nats-server) a parse.
    traceparent: str | None = None
    # Present when the caller sent an `Idempotency-Key`: the service then records the key with its change, in
    # the change's transaction, and answers a retry with the first reply (shared/idempotency.py).
    idempotency: Idempotency | None = None


class RpcError(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    detail: str
    extra: dict[str, Any] = {}


class RpcReply(msgspec.Struct, frozen=True, kw_only=True):
    # msgspec cannot decode `Raw | None`, so a missing result is the JSON `null`.
    result: msgspec.Raw = msgspec.Raw(b"null")
    error: RpcError | None = None


TRACER_NAME = "partnernet.rpc"
ENCODER = msgspec.json.Encoder()
_TRACE_CONTEXT = TraceContextTextMapPropagator()


def encode_error(exc: PartnernetError) -> bytes:
    return ENCODER.encode(RpcReply(error=RpcError(code=exc.code, detail=exc.detail, extra=exc.extra)))


def encode_result(result: Any) -> bytes:
    """A reply with a result, written around the result's encoding (no envelope struct to build and walk)."""
    return b'{"result":' + ENCODER.encode(result) + b"}"


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


@dataclass
class IdempotentRequest:
    """A caller's request made with an `Idempotency-Key`: every call it makes carries the key, numbered."""

    key: str
    fingerprint: str
    calls: int = 0

    def next_call(self) -> Idempotency:
        call = Idempotency(key=self.key, request=self.fingerprint, call=self.calls)
        self.calls += 1
        return call


IDEMPOTENT_REQUEST: ContextVar[IdempotentRequest | None] = ContextVar("partnernet_idempotent_request", default=None)


@contextmanager
def idempotent_request(key: str, fingerprint: str) -> Iterator[IdempotentRequest]:
    """The calls made inside the block carry `key` (the gateway sets it around a POST with an Idempotency-Key)."""
    request = IdempotentRequest(key, fingerprint)
    token = IDEMPOTENT_REQUEST.set(request)
    try:
        yield request
    finally:
        IDEMPOTENT_REQUEST.reset(token)


class HandedOver:
    """What nats-py resolves with the reply of a request it makes itself (`subscribe(future=…)`): given instead, it
    hands every message of the subscription to `received` as the connection's read loop parses it. A subscription
    with a callback put each message on a queue of its own for a task that then called back: one event-loop
    iteration more between a message's arrival and its handling (behind everything else ready in the loop), and a
    queue put, a get and a coroutine for each. `received` runs inside the read loop: it must not block or raise."""

    def __init__(self, received: Callable[[Msg], None]) -> None:
        self._received = received

    def cancelled(self) -> bool:  # asked before each message: a request's future, once cancelled, takes no reply
        return False

    def set_result(self, msg: Msg) -> None:
        self._received(msg)
