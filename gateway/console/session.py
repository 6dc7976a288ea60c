"""Who looks at the console: the token in the session cookie as an actor, the language, and the CSRF token.

The session cookie holds the token the person signed in with (pasted, or from the OpenID Connect provider):
HttpOnly, SameSite=Strict, Secure over HTTPS. Every request verifies it again with the gateway's own
`Authenticator`, so the console's actor is exactly the API's actor for that token.

CSRF: a random seed cookie (HttpOnly, SameSite=Strict) is given to every visitor; a form's token is
HMAC-SHA256(seed, session token), so it is bound to this browser and this sign-in, needs no server-side store
(any gateway replica checks it), and a page of another site can neither read nor compute it. Every POST under
/console must carry it (`csrf_token` field or `X-CSRF-Token` header): `require_csrf` guards the router.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from gateway.console.messages import DEFAULT_LANGUAGE, LANGUAGES, translate
from shared.tenancy import Actor, Role

PREFIX = "/console"
SESSION_COOKIE = "pn_session"
SEED_COOKIE = "pn_csrf"
LANGUAGE_COOKIE = "pn_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
NEW_SEED = "partnernet.console.seed"  # key in the scope's state: a seed cookie to hand out with the response
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Scripts, styles and images from the gateway only; no inline script, no eval, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


class SignInRequired(Exception):
    """The page needs a signed-in person; `expired` when a session cookie was there but no longer holds."""

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__("sign in first")
        self.expired = expired


class RoleNotAllowed(Exception):
    """The page is not for the signed-in person's role."""


@dataclass(frozen=True)
class Visitor:
    lang: str
    actor: Actor | None
    token: str | None
    csrf: str
    path: str
    secure: bool
    expired: bool = False

    def t(self, key: str, **values: Any) -> str:
        return translate(self.lang, key, **values)

    def signed_in(self, *roles: Role) -> Actor:
        """The actor, when signed in with one of `roles` (any role when none are named)."""
        if self.actor is None:
            raise SignInRequired(expired=self.expired)
        if roles and self.actor.role not in roles:
            raise RoleNotAllowed(self.actor.role.value)
        return self.actor

    @property
    def role(self) -> Role | None:
        return self.actor.role if self.actor else None


def csrf_token(seed: str, session_token: str | None) -> str:
    return hmac.new(seed.encode(), (session_token or "-").encode(), hashlib.sha256).hexdigest()


def language_of(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    lang = request.cookies.get(LANGUAGE_COOKIE, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def is_secure(request: ASGIConnection[Any, Any, Any, Any]) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded.split(",")[0].strip() == "https"


def seed_of(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The visitor's CSRF seed; a new one (handed out with the response) when the browser has none yet."""
    state = request.scope.setdefault("state", {})
    seed = request.cookies.get(SEED_COOKIE) or state.get(NEW_SEED)
    if not seed or len(seed) < 32:
        seed = secrets.token_urlsafe(32)
        state[NEW_SEED] = seed
    return str(seed)


async def provide_visitor(request: Request[Any, Any, Any]) -> Visitor:
    token = request.cookies.get(SESSION_COOKIE) or None
    actor: Actor | None = None
    expired = False
    if token:
        try:
            actor = await request.app.state.authenticator.from_token(token)
        except NotAuthorizedException:
            token, expired = None, True
    return Visitor(
        lang=language_of(request),
        actor=actor,
        token=token,
        csrf=csrf_token(seed_of(request), token),
        path=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        secure=is_secure(request),
        expired=expired,
    )


async def require_csrf(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Guard of every console route: a POST carries the token of this browser's seed and session."""
    if connection.scope.get("method", "GET") in SAFE_METHODS:
        return
    seed = connection.cookies.get(SEED_COOKIE)
    sent = connection.headers.get(CSRF_HEADER)
    if sent is None and isinstance(connection, Request):
        value = (await connection.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = csrf_token(seed, connection.cookies.get(SESSION_COOKIE) or None) if seed else None
    if expected is None or sent is None or not hmac.compare_digest(sent, expected):
        raise PermissionDeniedException("csrf")


def session_cookie(token: str, *, secure: bool) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value=token, path=PREFIX, httponly=True, secure=secure, samesite="strict")


def cleared_session_cookie(*, secure: bool) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value="", path=PREFIX, httponly=True, secure=secure, samesite="strict", max_age=0)


def language_cookie(lang: str, *, secure: bool) -> Cookie:
    return Cookie(
        key=LANGUAGE_COOKIE,
        value=lang,
        path=PREFIX,
        httponly=True,
        secure=secure,
        samesite="strict",
        max_age=365 * 24 * 3600,
    )


def _cookie(name: str, value: str, *, secure: bool) -> str:
    parts = [f"{name}={value}", f"Path={PREFIX}", "SameSite=Strict", "HttpOnly"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


class ConsoleHeaders(ASGIMiddleware):
    """Every console response: security headers, no caching of pages, and the CSRF seed cookie when new."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {key.lower() for key, _ in headers}
                extra = {
                    b"content-security-policy": CONTENT_SECURITY_POLICY,
                    b"x-content-type-options": "nosniff",
                    b"x-frame-options": "DENY",
                    b"referrer-policy": "same-origin",
                }
                if not scope.get("path", "").startswith(f"{PREFIX}/static/"):
                    extra[b"cache-control"] = "no-store"
                for key, value in extra.items():
                    if key not in names:
                        headers.append((key, value.encode()))
                seed = scope.get("state", {}).get(NEW_SEED)
                if seed:
                    secure = _scope_is_secure(scope)
                    cookie = _cookie(SEED_COOKIE, seed, secure=secure)
                    headers.append((b"set-cookie", cookie.encode()))
                message["headers"] = headers
            await send(message)

        await next_app(scope, receive, send_with_headers)


def _scope_is_secure(scope: Scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    for key, value in scope.get("headers", []):
        if key.lower() == b"x-forwarded-proto":
            return value.decode("latin-1").split(",")[0].strip() == "https"
    return False
