"""The classes of bad input that once made the gateway answer 5xx, tried on every operation of the OpenAPI document
(the suite's own fuzzing, beside schemathesis in tests/e2e/test_gateway_contract.py, which rarely makes them):

- invalid encodings: path, query and JSON body bytes that are not UTF-8, lone surrogates, overlong forms, UTF-16;
- negative and out-of-range numbers in every numeric field: path, query and every numeric body field at any
  depth (optional ones too), from -2^63-1 to 2^64, 1e308 and fractions;
- header values of every shape, on the headers the gateway reads (If-Match, Last-Event-ID, Idempotency-Key,
  Authorization, X-API-Key, Content-Type, Accept, Accept-Language, Cookie, traceparent, X-Forwarded-For).

Against a gateway of its own with the rate limit lifted, as operator, staff and partner. Never a 5xx (a 504, a service
slower than the gateway's deadline under the machine's load, counts only if it comes again when asked alone).
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.test_isolation_routes import Examples
from tests.fixtures.platform import RunningPlatform, another_gateway
from tests.fixtures.tenants import Tenant
from tests.security.test_server_errors import OPERATION_METHODS, concrete
from tests.waiting import PATIENCE_SECONDS

Operation = tuple[str, str, dict[str, Any]]
# One of each class, not every member: the suite runs this on every change, and each class already failed alone
# (the first run of all of them, 14,800 requests and 4–7 minutes, found nothing the classes below do not).
NUMBERS: list[Any] = [-1, -(2**63) - 1, 2**64, 1e308, 0.5]  # negative, beyond 64 bits both ways, overflow, fraction
PATH_NUMBERS = ["-1", str(2**64), "1e3", "٣", " 1"]  # negative, beyond 64 bits, exponent, non-ASCII digit, blank
HEADER_SHAPES: list[str | bytes] = [  # (leading or trailing blanks no client sends: h11 refuses them)
    "",
    "a b",
    "a\tb",
    "*",
    '"',
    '""',
    "W/",
    '"1", "2"',
    ",,,",
    "-1",
    "0",
    str(2**64),
    "1e3",
    "x" * 6000,
    b"\xe9\xff\xfe",
    b"\x80",
    "٣".encode(),
    b'"\xb2"',
    "Bearer",
    "Bearer  x",
    "Bearer a.b.c",
    "ApiKey  pnk_",
    "Basic Zm9vOmJhcg==",
    "00-" + "0" * 32 + "-" + "0" * 16 + "-01",
    "00-zz-yy-01",
    "999.999.999.999, ::1, x",
    "text/html;q=abc, */*;q=-1",
    "application/json; charset=latin-1",
    "=; pn_session=; ;;",
]
HEADERS = [
    "If-Match",
    "Last-Event-ID",
    "Idempotency-Key",
    "Authorization",
    "X-API-Key",
    "Content-Type",
    "Accept",
    "Accept-Language",
    "Cookie",
    "traceparent",
    "X-Forwarded-For",
]
ENCODINGS = [
    b'{"name": "caf\xe9"}',
    b'{"name": "\\ud800"}',
    b'{"name": "\xc0\xaf"}',
    '{"name": "x"}'.encode("utf-16"),
    b"\xef\xbb\xbf{}",
    b"\x00",
]


CONCURRENCY = 8


@dataclasses.dataclass
class Tally:
    requests: int = 0
    server_errors: list[str] = dataclasses.field(default_factory=list)
    # 504s, asked again once the role's run is over (`ask_timed_out_again`): (what, method, url, options, answer).
    timed_out: list[tuple[str, str, str, dict[str, Any], str]] = dataclasses.field(default_factory=list)
    timed_out_answered: list[str] = dataclasses.field(default_factory=list)
    running: set[asyncio.Task[None]] = dataclasses.field(default_factory=set)
    slots: asyncio.Semaphore = dataclasses.field(default_factory=lambda: asyncio.Semaphore(CONCURRENCY))

    def note(self, what: str, status: int, text: str) -> None:
        self.requests += 1
        if status >= 500:
            self.server_errors.append(f"{what}: {status} {text[:200]}")


async def ask_timed_out_again(api: httpx.AsyncClient, tally: Tally) -> None:
    """A 504 is the gateway's answer for a service that did not answer within its deadline: the clear answer the
    platform promises for a slow service, not for bad input. This module's 8 requests at once run beside the other
    worker's tests on the machine's two cores, and on a slow machine a listing outlasted the deadline (2 of 10,244
    requests, 5 Dec 2026). Each is asked again alone once the role's run is over: bad input that makes a 5xx makes
    it again, and then it counts; one answered below 500 is printed, not counted."""
    for what, method, url, options, first in tally.timed_out:
        status, text = await answer_of(api, method, url, options)
        if status >= 500:
            tally.server_errors.append(f"{what}: 504 {first[:200]}, then {status} {text[:200]}")
        else:
            tally.timed_out_answered.append(f"{what}: 504, then {status}")
    tally.timed_out.clear()


@pytest.fixture(scope="module")
async def gateway(platform: RunningPlatform) -> AsyncIterator[str]:
    settings = dataclasses.replace(platform.settings, rate_limit_per_minute=10**9)
    async with another_gateway(settings) as url:
        yield url


@pytest.fixture(scope="module")
async def document(platform: RunningPlatform) -> dict[str, Any]:
    async with platform.client() as api:
        return dict((await api.get("/schema/openapi.json")).json())


def every_operation(document: dict[str, Any]) -> list[Operation]:
    return [
        (method.upper(), path, item[method])
        for path, item in document["paths"].items()
        for method in OPERATION_METHODS
        if method in item
    ]


async def answer_of(api: httpx.AsyncClient, method: str, url: str, options: dict[str, Any]) -> tuple[int, str]:
    """A request's status, and its body where it is a 5xx. A stream that opens (a live feed) is closed at once: only
    its status counts. No answer at all (a hang, a dropped connection) is as bad as a 5xx: 599."""
    try:
        async with api.stream(method, url, **options) as response:
            text = (await response.aread()).decode(errors="replace") if response.status_code >= 500 else ""
            return response.status_code, text
    except httpx.HTTPError as exc:
        return 599, f"{type(exc).__name__}: {exc}"


async def call(api: httpx.AsyncClient, tally: Tally, method: str, url: str, what: str, **options: Any) -> None:
    """One request, started now and awaited later (a few at a time)."""

    async def one() -> None:
        try:
            status, text = await answer_of(api, method, url, options)
            if status == 504:  # asked again once the role's run is over
                tally.requests += 1
                tally.timed_out.append((what, method, url, options, text))
            else:
                tally.note(what, status, text)
        finally:
            tally.slots.release()

    await tally.slots.acquire()  # no more than CONCURRENCY at once: the next waits for a free slot
    task = asyncio.create_task(one())
    tally.running.add(task)
    task.add_done_callback(tally.running.discard)


def numeric_fields(examples: Examples, schema: dict[str, Any], path: tuple[Any, ...] = (), depth: int = 0) -> Iterator:
    """(path, schema) of every integer or number field in a body schema, optional ones and array items too."""
    schema = examples.resolve(schema)
    if depth > 6:
        return
    for key in ("oneOf", "anyOf", "allOf"):
        for option in schema.get(key, []):
            yield from numeric_fields(examples, option, path, depth + 1)
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if kinds & {"integer", "number"}:
        yield path, schema
    if "object" in kinds or "properties" in schema:
        for name, field in schema.get("properties", {}).items():
            yield from numeric_fields(examples, field, (*path, name), depth + 1)
    if "array" in kinds:
        yield from numeric_fields(examples, schema.get("items", {}), (*path, 0), depth + 1)


def with_value(examples: Examples, body: Any, schema: dict[str, Any], path: tuple[Any, ...], value: Any) -> Any:
    """The body with `value` at `path`, making the optional parents on the way from the schema."""
    if not path:
        return value
    schema = examples.resolve(schema)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [examples.resolve(o) for o in schema[key] if examples.resolve(o).get("type") != "null"]
            schema = next((o for o in options if _has(examples, o, path[0])), options[0] if options else {})
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = schema.get("items", {})
        inner = body[0] if isinstance(body, list) and body else examples.make(items)
        return [with_value(examples, inner, items, rest, value)]
    field = schema.get("properties", {}).get(head, {})
    parent = dict(body) if isinstance(body, dict) else {}
    inner = parent.get(head, examples.make(field) if rest else None)
    parent[head] = with_value(examples, inner, field, rest, value)
    return parent


def _has(examples: Examples, schema: dict[str, Any], key: Any) -> bool:
    return isinstance(key, int) or key in examples.resolve(schema).get("properties", {})


@pytest.mark.timeout(900)
async def test_no_bad_input_of_these_classes_is_a_server_error(
    platform: RunningPlatform, tenant: Tenant, gateway: str, document: dict[str, Any]
) -> None:
    examples = Examples(document, None)
    tally = Tally()
    callers = {"operator": tenant.operator, "staff": tenant.staff_a, "partner": tenant.partner_a_token}
    for role, token in callers.items():
        headers = {"Authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=CONCURRENCY)
        async with httpx.AsyncClient(base_url=gateway, headers=headers, timeout=PATIENCE_SECONDS, limits=limits) as api:
            for method, path, operation in every_operation(document):
                # Numbers reach each role's own checks in the services; encodings and header shapes are read by
                # the gateway before any role matters, so the operator (who gets furthest) tries those.
                await numbers_of(api, tally, examples, role, method, path, operation, tenant)
                if role == "operator":
                    await encodings_of(api, tally, role, method, path, operation, tenant)
                    await headers_of(api, tally, role, method, path, operation, tenant)
            await asyncio.gather(*tally.running)  # before the client closes under them
            await ask_timed_out_again(api, tally)
    print(f"fuzzing classes: {tally.requests} requests, {len(tally.server_errors)} with a 5xx")
    if tally.timed_out_answered:
        print("timed out under load, answered when asked again:", *tally.timed_out_answered, sep="\n  ")
    assert not tally.server_errors, "\n".join(tally.server_errors[:40])
    assert tally.requests > 2_000


async def numbers_of(
    api: httpx.AsyncClient,
    tally: Tally,
    examples: Examples,
    role: str,
    method: str,
    path: str,
    operation: dict[str, Any],
    tenant: Tenant,
) -> None:
    url = concrete(path, operation, tenant)
    parameters = operation.get("parameters", [])
    for parameter in parameters:
        schema = examples.resolve(parameter.get("schema", {}))
        kinds = {t.get("type") for t in schema.get("oneOf", [])} | {schema.get("type")}
        if not kinds & {"integer", "number"}:
            continue
        name = parameter["name"]
        for value in PATH_NUMBERS if parameter["in"] == "path" else [*map(str, NUMBERS), *PATH_NUMBERS]:
            what = f"{role} {method} {path} {parameter['in']} {name}={value}"
            if parameter["in"] == "path":
                bent = concrete(path.replace("{" + name + "}", value), operation, tenant)
                await call(api, tally, method, bent, what)
            elif parameter["in"] == "query":
                await call(api, tally, method, url, what, params={name: value})
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return
    base = examples.make(schema)
    for field_path, _ in numeric_fields(examples, schema):
        for value in NUMBERS:
            body = with_value(examples, copy.deepcopy(base), schema, field_path, value)
            what = f"{role} {method} {path} body {'.'.join(map(str, field_path))}={value}"
            await call(api, tally, method, url, what, json=body)


async def encodings_of(
    api: httpx.AsyncClient, tally: Tally, role: str, method: str, path: str, operation: dict[str, Any], tenant: Tenant
) -> None:
    url = concrete(path, operation, tenant)
    if "{" in path:
        bent = concrete(path.replace(path[path.index("{") : path.index("}") + 1], "%ff%fe%c0%af"), operation, tenant)
        await call(api, tally, method, bent, f"{role} {method} {path} path %ff")
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query":
            raw = f"{url}?{parameter['name']}=%ff%fe%c0%af%ed%a0%80"
            await call(api, tally, method, raw, f"{role} {method} {path} query {parameter['name']}=%ff")
    if "requestBody" in operation:
        for body in ENCODINGS:
            what = f"{role} {method} {path} body {body[:12]!r}"
            await call(api, tally, method, url, what, content=body, headers={"content-type": "application/json"})


async def headers_of(
    api: httpx.AsyncClient, tally: Tally, role: str, method: str, path: str, operation: dict[str, Any], tenant: Tenant
) -> None:
    """Every header shape on every header an operation reads itself (If-Match, Last-Event-ID); the headers every
    request passes through (Idempotency-Key and Content-Type among them) once per kind of operation."""
    url = concrete(path, operation, tenant)
    own = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "header"}
    # Idempotency-Key and Content-Type are read by the gateway's one pass and Litestar's body parsing, the same
    # for every route: tried on the probes of each kind, with the headers every request passes through.
    probe = path in GENERAL_PROBES.get(method, ())
    if probe and ("requestBody" in operation or method == "POST"):
        own |= {"Idempotency-Key", "Content-Type"}
    wanted = own | (set(HEADERS) if probe else set())
    for header in sorted(wanted):
        for shape in HEADER_SHAPES:
            what = f"{role} {method} {path} {header}: {shape[:20]!r}"
            options: dict[str, Any] = {"headers": {header: shape}}
            if "requestBody" in operation:
                options["json"] = {}
            await call(api, tally, method, url, what, **options)


# One operation of each kind for the headers every request passes through (authentication, content negotiation,
# tracing, the client's address): a list, a read, a write, the live feed.
GENERAL_PROBES = {
    "GET": (
        "/api/v1/referrals",
        "/api/v1/partners/{partner_id}",
        "/api/v1/partners/{partner_id}/feed/live",
        "/api/v1/courses",
    ),
    "POST": ("/api/v1/referrals", "/api/v1/partners/{partner_id}/api-keys"),
    "PATCH": ("/api/v1/partners/{partner_id}",),
}
