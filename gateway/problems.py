"""The one place that turns errors into RFC 9457 problem details, and documents them.

`PROBLEM_RESPONSES` is the set of problem responses for a route's `responses=`; the OpenAPI document
gets them on every operation anyway (see gateway/docs.py), so a controller that forgets still documents
its failures.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Send

from shared.errors import Conflict, PartnernetError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details; `type` is `urn:partnernet:problem:<code>`. Further members depend on the problem."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    service: str | None = None  # 503 and 504: which service did not answer (in time)
    errors: list[dict[str, Any]] | None = None  # 422: what is wrong with which field
    current: dict[str, Any] | None = None  # 409: the current state, to merge with and retry
    restart_after: int | None = None  # 410 on a feed: the cursor to read on from (the oldest entry kept follows it)


def problem_type(code: str) -> str:
    return f"urn:partnernet:problem:{code}"


def _spec(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem, description=description, media_type=PROBLEM_JSON, generate_examples=False
    )


PROBLEM_DESCRIPTIONS: dict[int, str] = {
    400: "The request cannot be read (e.g. malformed JSON)",
    401: "No valid bearer token or API key",
    403: "The caller's role or API key scope does not allow this",
    404: "Not found, or outside the caller's scope (existence is never revealed)",
    409: "Conflicts with the current state (e.g. a stale If-Match / expected_version); `current` holds the state",
    410: "No longer kept (a feed cursor before the feed's horizon); `restart_after` says where to start again",
    413: "The request body is larger than the gateway accepts",
    422: "The request is not valid; `errors` lists the fields",
    429: "Too many requests for this caller; see Retry-After and the RateLimit-* headers",
    500: "The gateway failed unexpectedly",
    503: "A service does not answer; `service` names it",
    504: "A service did not answer before the deadline; `service` names it",
}

PROBLEM_RESPONSES: dict[int, ResponseSpec] = {
    status: _spec(description) for status, description in PROBLEM_DESCRIPTIONS.items()
}
"""Every problem response, for a route's `responses=`; `problem_responses(...)` picks some. gateway/docs.py adds the
ones that apply to every operation anyway (by method and authentication), so these are for being explicit."""

READ_PROBLEMS = (400, 401, 403, 404, 422, 429, 500, 503, 504)


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """`responses=problem_responses(*READ_PROBLEMS)`, or any statuses of `PROBLEM_DESCRIPTIONS`."""
    return {status: PROBLEM_RESPONSES[status] for status in statuses}


# RFC 9457's own members. A service error's extra fields never replace them (an error that carried `status=`
# once turned its problem into a 500): a colliding field is kept, renamed with this prefix.
RFC9457_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})
COLLIDING_PREFIX = "error_"


def problem(
    status: int, code: str, title: str, detail: str, instance: str, /, **extra: Any
) -> Response[dict[str, Any]]:
    return Response(
        problem_body(status, code, title, detail, instance, **extra), status_code=status, media_type=PROBLEM_JSON
    )


def problem_body(status: int, code: str, title: str, detail: str, instance: str, /, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    body.update({key: value for key, value in extra.items() if key not in RFC9457_MEMBERS})
    for key in sorted(RFC9457_MEMBERS & extra.keys()):
        body.setdefault(COLLIDING_PREFIX + key, extra[key])
    return body


async def send_problem(send: Send, exc: PartnernetError | HTTPException, instance: str) -> None:
    """A problem answered outside Litestar's handlers (the gateway's one pass, gateway/middleware.py): the same
    body and headers `partnernet_error` and `http_error` give."""
    headers: dict[str, str] = {}
    if isinstance(exc, PartnernetError):
        body = problem_body(exc.status, exc.code, exc.title, exc.detail, instance, **exc.extra)
        status = exc.status
        if (version := _conflict_version(exc)) is not None:
            headers["ETag"] = f'"{version}"'
    else:
        status = exc.status_code
        body = problem_body(status, HTTP_CODES.get(status, "http-error"), _title(status), str(exc.detail), instance)
        headers.update(exc.headers or {})
    content = msgspec.json.encode(body)
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw += [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(content)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content, "more_body": False})


def partnernet_error(request: Request[Any, Any, Any], exc: PartnernetError) -> Response[dict[str, Any]]:
    response = problem(exc.status, exc.code, exc.title, exc.detail, request.url.path, **exc.extra)
    if (version := _conflict_version(exc)) is not None:
        response.headers["ETag"] = f'"{version}"'
    return response


def _conflict_version(exc: PartnernetError) -> int | None:
    """A 409's current version, which its problem also gives as the ETag (to merge with and retry)."""
    current = exc.extra.get("current")
    if isinstance(exc, Conflict) and isinstance(current, dict) and isinstance(current.get("version"), int):
        return int(current["version"])
    return None


def validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    return problem(
        422,
        "invalid-input",
        "The request is not valid",
        str(exc.detail),
        request.url.path,
        errors=exc.extra if isinstance(exc.extra, list) else [],
    )


HTTP_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
}


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    if exc.status_code >= 500:
        log.error("HTTP %s on %s: %s", exc.status_code, request.url.path, exc.detail)
    code = HTTP_CODES.get(exc.status_code, "http-error")
    response = problem(exc.status_code, code, _title(exc.status_code), str(exc.detail), request.url.path)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def too_deeply_nested(request: Request[Any, Any, Any], exc: RecursionError) -> Response[dict[str, Any]]:
    # JSON nested past Python's recursion limit cannot even be decoded: the request's fault, not a crash.
    return problem(400, "invalid-input", "The request is not valid", "the JSON is nested too deeply", request.url.path)


def not_utf8(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[dict[str, Any]]:
    # Litestar decodes a JSON body as UTF-8 before msgspec sees it, and lets the error through as it is.
    return problem(400, "bad-request", "Bad Request", "the request body is not valid UTF-8", request.url.path)


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unexpected error on %s", request.url.path)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
        "the gateway failed to handle the request",
        request.url.path,
    )


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


EXCEPTION_HANDLERS: dict[Any, Any] = {
    PartnernetError: partnernet_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    RecursionError: too_deeply_nested,
    UnicodeDecodeError: not_utf8,
    Exception: unexpected_error,
}
