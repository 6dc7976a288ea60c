"""Rate limits per caller: a token's subject, an API key, or (anonymous) the client's address.

Litestar's `RateLimitConfig` keys by client address by default; here the key is the caller that
`AuthenticationMiddleware` resolved just before. Responses carry `RateLimit-Limit`, `RateLimit-Remaining`,
`RateLimit-Reset` and `RateLimit-Policy`; a 429 is a problem with `Retry-After`. The counts live in the
gateway's memory store: each gateway replica counts on its own.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware, get_remote_address
from litestar.types import Receive, Scope, Send

from gateway.auth import CALLER, Caller

UNLIMITED_PATHS = ["^/health$", "^/docs-assets/"]


def rate_limit_key(request: Request[Any, Any, Any]) -> str:
    caller: Caller | None = request.scope.get("state", {}).get(CALLER)
    if caller is not None:
        return caller.rate_limit_key
    return f"address:{get_remote_address(request)}"


class CallerRateLimitMiddleware(RateLimitMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except TooManyRequestsException as exc:
            headers = dict(exc.headers or {})
            headers["Retry-After"] = str(max(1, int(headers.get(self.config.rate_limit_reset_header_key, "1"))))
            limit = headers.get(self.config.rate_limit_limit_header_key, "?")
            raise TooManyRequestsException(
                detail=f"more than {limit} requests a minute for this caller; retry after {headers['Retry-After']} s",
                headers=headers,
            ) from None


def rate_limit(requests_per_minute: int) -> RateLimitConfig:
    return RateLimitConfig(
        rate_limit=("minute", requests_per_minute),
        identifier_for_request=rate_limit_key,
        middleware_class=CallerRateLimitMiddleware,
        exclude=UNLIMITED_PATHS,
    )
