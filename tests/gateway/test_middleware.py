"""The gateway's one pass per request (gateway/middleware.py), on a bare ASGI app: no servers needed."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.auth import CALLER, ApiKeyCache, Authenticator, Caller
from gateway.idempotency import IdempotencyBucket, IdempotencyMiddleware
from gateway.middleware import RateLimiter, RequestMiddleware
from shared.telemetry import Telemetry, setup_telemetry
from shared.tenancy import Actor, Role
from shared.tokens import TokenIssuer

TEMPLATE = "/api/v1/referrals/{referral_id:uuid}"
SECRET = secrets.token_urlsafe(32)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def middleware(telemetry: Telemetry, *, limit: int = 100, clock: Clock | None = None) -> tuple[RequestMiddleware, list]:
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(dict(scope["state"]))
        if scope["path"].startswith("/api/v1/referrals/"):
            scope["path_template"] = TEMPLATE  # what Litestar's router leaves once it matched a route
            status = 200
        else:
            status = 404
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    authenticator = Authenticator(issuer=TokenIssuer(SECRET), oidc=None, rpc=None, api_keys=ApiKeyCache(30))  # type: ignore[arg-type]
    limiter = RateLimiter(limit, clock=clock or Clock())
    idempotency = IdempotencyMiddleware(IdempotencyBucket(), secret=SECRET, max_body_bytes=1024)
    return (
        RequestMiddleware(
            app, authenticator=authenticator, limiter=limiter, idempotency=idempotency, telemetry=telemetry
        ),
        seen,
    )


async def call(
    app: RequestMiddleware, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "scheme": "http",
        "client": ("10.1.2.3", 5555),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    start = sent[0]
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, sent[1]["body"]


def bearer(subject: str = "op") -> dict[str, str]:
    return {"Authorization": f"Bearer {TokenIssuer(SECRET).issue(Actor(subject=subject, role=Role.OPERATOR))}"}


async def test_a_request_is_one_span_named_by_its_route_whose_trace_id_is_the_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    telemetry = setup_telemetry(
        "gw", otlp_endpoint=None, span_processors=[SimpleSpanProcessor(spans)], metric_readers=[reader]
    )
    app, seen = middleware(telemetry)
    with caplog.at_level(logging.INFO, logger="gateway.access"):
        status, headers, _ = await call(app, "/api/v1/referrals/0193", bearer())
    assert status == 200
    (span,) = spans.get_finished_spans()
    assert span.name == f"GET {TEMPLATE}"
    assert span.attributes is not None and span.attributes["http.route"] == TEMPLATE
    assert headers["x-request-id"] == format(span.context.trace_id, "032x")
    (line,) = caplog.records
    assert line.getMessage() == f"GET {TEMPLATE} 200", "the route template, not the path with its ids"
    assert (line.method, line.route, line.status) == ("GET", TEMPLATE, 200) and line.duration_ms >= 0  # type: ignore[attr-defined]
    caller = seen[0][CALLER]
    assert isinstance(caller, Caller) and caller.actor.subject == "op"
    data = reader.get_metrics_data()
    assert data is not None
    metrics = json.loads(data.to_json())
    points = [
        point
        for resource in metrics["resource_metrics"]
        for scope in resource["scope_metrics"]
        for metric in scope["metrics"]
        if metric["name"] == "http.server.duration"
        for point in metric["data"]["data_points"]
    ]
    assert [p["attributes"]["http.target"] for p in points] == [TEMPLATE], "by template: ids would explode series"


async def test_with_nothing_recording_the_request_id_is_still_a_trace_id_of_our_own() -> None:
    app, _ = middleware(setup_telemetry("gw", otlp_endpoint=None))
    _, first, _ = await call(app, "/api/v1/referrals/0193")
    _, second, _ = await call(app, "/api/v1/referrals/0193")
    assert len(first["x-request-id"]) == 32 and int(first["x-request-id"], 16)
    assert first["x-request-id"] != second["x-request-id"]
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    _, ours, _ = await call(app, "/api/v1/referrals/0193", {"traceparent": parent})
    assert ours["x-request-id"] != "0af7651916cd43dd8448eb211c80319c", "the caller does not choose our request id"


async def test_a_callers_trace_is_linked_not_continued() -> None:
    spans = InMemorySpanExporter()
    app, _ = middleware(setup_telemetry("gw", otlp_endpoint=None, span_processors=[SimpleSpanProcessor(spans)]))
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
    _, headers, _ = await call(app, "/api/v1/referrals/0193", {"traceparent": parent})
    (span,) = spans.get_finished_spans()
    assert span.parent is None and headers["x-request-id"] == format(span.context.trace_id, "032x")
    assert [(format(link.context.trace_id, "032x"), format(link.context.span_id, "016x")) for link in span.links] == [
        ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    ]


async def test_an_unknown_route_gets_a_request_id_too() -> None:
    app, _ = middleware(setup_telemetry("gw", otlp_endpoint=None))
    status, headers, _ = await call(app, "/nowhere")
    assert status == 404 and len(headers["x-request-id"]) == 32


async def test_the_rate_limit_counts_per_caller_and_answers_a_problem_with_retry_after() -> None:
    clock = Clock()
    app, _ = middleware(setup_telemetry("gw", otlp_endpoint=None), limit=2, clock=clock)
    answers = [await call(app, "/api/v1/referrals/0193", bearer("busy")) for _ in range(3)]
    other = await call(app, "/api/v1/referrals/0193", bearer("calm"))
    assert [status for status, _, _ in answers] == [200, 200, 429]
    assert [headers["ratelimit-remaining"] for _, headers, _ in answers] == ["1", "0", "0"]
    _, headers, body = answers[2]
    problem = json.loads(body)
    assert headers["content-type"] == "application/problem+json" and problem["type"].endswith(":too-many-requests")
    assert int(headers["retry-after"]) == 60 and headers["ratelimit-limit"] == "2" and "x-request-id" in headers
    assert other[0] == 200, "another caller has a budget of its own"
    clock.now += 61
    assert (await call(app, "/api/v1/referrals/0193", bearer("busy")))[0] == 200, "a new minute, a new budget"


async def test_anonymous_callers_are_counted_by_address_and_the_health_check_is_not_counted() -> None:
    app, _ = middleware(setup_telemetry("gw", otlp_endpoint=None), limit=1)
    assert [(await call(app, "/api/v1/referrals/0193"))[0] for _ in range(2)] == [200, 429]
    assert [(await call(app, "/health"))[0] for _ in range(3)] == [404, 404, 404]  # never 429


def test_the_limiter_forgets_windows_that_ended_once_it_holds_many() -> None:
    clock = Clock()
    limiter = RateLimiter(5, clock=clock, sweep_at=3)
    for key in ("a", "b", "c"):
        limiter.take(key)
    clock.now += 61
    limiter.take("d")
    assert set(limiter._windows) == {"d"}
