"""Every HTTP request's one pass around the app: its span and request id, the caller, the rate limit, the access
log and the HTTP metrics, and `Idempotency-Key` where one is sent.

One ASGI layer instead of five (OpenTelemetry's ASGI middleware, authentication, Litestar's rate limiter,
idempotency, and three `before_send` hooks): each of them wrapped `send` and read the headers again, and the
rate limiter kept its counts JSON-encoded behind one global lock. Here the headers are read once, the counts
are a dict (one event loop: no lock), and with no collector configured the request's span is a bare trace id
(nothing is recorded, so nothing is built) that still becomes the `X-Request-Id` and the logs' `trace_id`.

It wraps the app's exception handler, so it sees every request (unknown routes too); the problems it answers
itself (429, and `Idempotency-Key` misuse) are written with `gateway.problems.send_problem`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind

from gateway.auth import Authenticator, authenticate_request
from gateway.fast_reads import FastReads
from gateway.fast_writes import FastWrites
from gateway.idempotency import IdempotencyMiddleware
from gateway.problems import send_problem
from shared.errors import PartnernetError
from shared.rpc import RpcClient, caller_context
from shared.telemetry import Telemetry, skips_roots, tag_span_with_actor

access_log = logging.getLogger("gateway.access")

# Paths every caller may ask as often as it likes: the health check, and the docs' static assets.
UNLIMITED_EXACT = frozenset({"/health"})
UNLIMITED_PREFIXES = ("/docs-assets/",)
WINDOW_SECONDS = 60


@dataclass
class Budget:
    limit: int
    remaining: int
    reset_seconds: int

    @property
    def allowed(self) -> bool:
        return self.remaining >= 0

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"ratelimit-policy", f"{self.limit}; w={WINDOW_SECONDS}".encode()),
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(max(self.remaining, 0)).encode()),
            (b"ratelimit-reset", str(self.reset_seconds).encode()),
        ]


class RateLimiter:
    """`limit` requests a minute per caller, in windows that start with a caller's first request.

    Counts live in this gateway replica's memory (each replica counts on its own). One event loop runs every
    request, so a plain dict needs no lock; windows that ended are swept out once the dict grows.
    """

    def __init__(self, limit: int, *, clock: Callable[[], float] = time.monotonic, sweep_at: int = 10_000) -> None:
        self.limit = limit
        self.clock = clock
        self.sweep_at = sweep_at
        self._windows: dict[str, list[float]] = {}  # key → [requests counted, window's end]

    def take(self, key: str) -> Budget:
        now = self.clock()
        window = self._windows.get(key)
        if window is None or window[1] <= now:
            if len(self._windows) >= self.sweep_at:
                self._windows = {k: w for k, w in self._windows.items() if w[1] > now}
            window = self._windows[key] = [0, now + WINDOW_SECONDS]
        window[0] += 1
        return Budget(self.limit, self.limit - int(window[0]), max(1, round(window[1] - now)))


class RequestMiddleware:
    """The one pass; installed around the app's exception handler by `gateway.app.create_app`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Authenticator,
        limiter: RateLimiter,
        idempotency: IdempotencyMiddleware,
        telemetry: Telemetry,
        fast_reads: FastReads | None = None,
        fast_writes: FastWrites | None = None,
        rpc: RpcClient | None = None,
    ) -> None:
        """`fast_reads` and `fast_writes` (with the `rpc` they call): the generated reads by id and creates from a
        body answered here, not by Litestar's route."""
        self.app = app
        self.fast_reads = fast_reads
        self.fast_writes = fast_writes
        self.rpc = rpc
        self.authenticator = authenticator
        self.limiter = limiter
        self.idempotency = idempotency
        self.tracer = telemetry.tracer("partnernet.gateway")
        # With nothing recording (no collector), a request's span is only its ids: made here, not by the SDK.
        self.bare_spans = skips_roots(self.tracer)
        meter = telemetry.meter("partnernet.gateway")
        self.duration = meter.create_histogram(
            "http.server.duration", unit="ms", description="time to answer an HTTP request, by route template"
        )
        self.active = meter.create_up_down_counter(
            "http.server.active_requests", unit="requests", description="HTTP requests being answered"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method = str(scope.get("method", "GET"))
        span = self._start_span(method, headers)
        token = otel_context.attach(trace.set_span_in_context(span))
        request_id = format(span.get_span_context().trace_id, "032x").encode()
        active = {"http.method": method, "http.scheme": scope.get("scheme", "http")}
        self.active.add(1, active)
        extra_headers = [(b"x-request-id", request_id)]
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *extra_headers]
            await send(message)

        try:
            caller = await authenticate_request(self.authenticator, scope, headers)
            if caller is not None:  # the act's actor on the request's own span, as on the service's
                actor = caller.actor
                tag_span_with_actor(span, subject=actor.subject, role=actor.role.value, partner=actor.partner)
            path = scope["path"]
            if path not in UNLIMITED_EXACT and not path.startswith(UNLIMITED_PREFIXES):
                budget = self.limiter.take(caller.rate_limit_key if caller else f"address:{_client(scope)}")
                extra_headers += budget.headers()
                if not budget.allowed:
                    retry = str(budget.reset_seconds)
                    detail = f"more than {budget.limit} requests a minute for this caller; retry after {retry} s"
                    too_many = HTTPException(status_code=429, detail=detail, headers={"Retry-After": retry})
                    await send_problem(send_with_headers, too_many, path)
                    return
            key = headers.get("idempotency-key")
            if key is not None and method == "POST" and caller is not None:
                await self._idempotent(scope, receive, send_with_headers, status_of=lambda: status)
            elif self.fast_reads is not None and self.rpc is not None and (read := self.fast_reads.match(method, path)):
                await self.fast_reads.answer(*read, scope, send_with_headers, self.rpc)
            elif (
                self.fast_writes is not None
                and self.rpc is not None
                and (write := self.fast_writes.match(method, path))
            ):
                await self.fast_writes.answer(write, scope, receive, send_with_headers, self.rpc, self.app)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            self._finish(scope, span, status, started, active)
            otel_context.detach(token)

    async def _idempotent(self, scope: Scope, receive: Receive, send: Send, *, status_of: Callable[[], int]) -> None:
        try:
            await self.idempotency.handle(scope, receive, send, self.app)
        except (PartnernetError, HTTPException) as exc:
            if status_of():  # the answer had started: nothing better can be said now
                raise
            await send_problem(send, exc, scope["path"])

    def _start_span(self, method: str, headers: dict[str, str]) -> trace.Span:
        """A trace of our own for every request, sampled by our own sampler, linked to the caller's.

        A caller's `traceparent` neither continues into our trace nor decides whether we record it: a client
        that sends the sampled flag `00` would otherwise switch tracing off for the request and everything
        after it, and continuing a caller's trace id would let any client choose our request ids and graft
        spans into another's trace. Named by the method until the route is known (the raw path holds ids and
        a participant's personal code); no path, query or URL on it.
        """
        if self.bare_spans:  # nothing records a root: only the ids, for the request id and the logs
            return NonRecordingSpan(SpanContext(random.getrandbits(128), random.getrandbits(64), is_remote=False))
        caller, _ = caller_context(headers.get("traceparent"))
        links = []
        if caller is not None:
            links.append(
                Link(trace.get_current_span(caller).get_span_context(), {"partnernet.link": "caller traceparent"})
            )
        return self.tracer.start_span(
            method, context=Context(), kind=SpanKind.SERVER, links=links, attributes={"http.method": method}
        )

    def _finish(self, scope: Scope, span: trace.Span, status: int, started: float, active: dict[str, str]) -> None:
        """The access line (while the span is current, so it carries the request id), the metrics, the span's end.

        The route template, not the path: a path holds ids and a participant's personal code (`/p/<code>`).
        """
        method, template = scope.get("method", "GET"), scope.get("path_template")
        route = template or "-"
        duration_ms = (time.perf_counter() - started) * 1000
        fields = {"method": method, "route": route, "status": status, "duration_ms": round(duration_ms, 1)}
        access_log.log(access_log_level(status), "%s %s %s", method, route, status, extra=fields)
        self.active.add(-1, active)
        self.duration.record(duration_ms, {**active, "http.status_code": status, "http.target": template or ""})
        if span.is_recording():
            if template:
                span.update_name(f"{method} {template}")
                span.set_attributes({"http.route": template, "http.target": template})
            span.set_attribute("http.status_code", status)
            if status >= 500:
                span.set_status(trace.Status(trace.StatusCode.ERROR))
            span.end()


def access_log_level(status: int) -> int:
    """5xx is an operator's business: a fault of ours is an error; a dependency that did not answer a warning."""
    if status in (502, 503, 504):
        return logging.WARNING
    return logging.ERROR if status >= 500 else logging.INFO


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
