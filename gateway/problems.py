"""The one place that turns errors into RFC 9457 problem details."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from shared.errors import PartnernetError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def problem_type(code: str) -> str:
    return f"urn:partnernet:problem:{code}"


def problem(status: int, code: str, title: str, detail: str, instance: str, **extra: Any) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


def partnernet_error(request: Request[Any, Any, Any], exc: PartnernetError) -> Response[dict[str, Any]]:
    return problem(exc.status, exc.code, exc.title, exc.detail, request.url.path, **exc.extra)


def validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    return problem(
        422,
        "invalid-input",
        "The request is not valid",
        str(exc.detail),
        request.url.path,
        errors=exc.extra if isinstance(exc.extra, list) else [],
    )


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    code = {
        401: "unauthorized",
        403: "forbidden",
        404: "not-found",
        405: "method-not-allowed",
        413: "too-large",
        429: "too-many-requests",
    }.get(exc.status_code, "http-error")
    response = problem(exc.status_code, code, _title(exc.status_code), str(exc.detail), request.url.path)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


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
    from http import HTTPStatus

    return HTTPStatus(status).phrase


EXCEPTION_HANDLERS: dict[Any, Any] = {
    PartnernetError: partnernet_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
