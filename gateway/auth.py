"""Who is calling: the actor comes from a verified token or a partner's API key, never from the body or path.

Three kinds of credentials, all resolved once per request by `authenticate_request` before rate
limiting, so the limiter can count per caller:
- `Authorization: Bearer <jwt>` from the embedded issuer (HS256, `partnernet token`);
- `Authorization: Bearer <jwt>` from an OpenID Connect issuer (`PARTNERNET_OIDC_*`), chosen by the token's
  `iss`; verified with the issuer's JWKS (RS256/ES256 …);
  a token's scope must name tenants that are registered and belong together (its library and partner in its
  municipality): the partners service says so (`rpc.partners.resolve_actor_scope`), remembered like API keys;
- `X-API-Key: <key>` or `Authorization: ApiKey <key>`: a partner system's key, resolved by the partners
  service (`rpc.partners.authenticate_api_key`) and cached for `api_key_cache_seconds` (30 s by default):
  a revoked key keeps working on a gateway that saw it for at most that long.
A token verified once is remembered (`VerifiedTokens`): its signature and claims are not checked again, its
expiry is, on every request. A key acts as its partner, but only within its scopes (`<resource>:read` /
`<resource>:write`, checked by `require_api_key_scope` on every route).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any, Generic, TypeVar
from uuid import UUID

import jwt
import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Scope

from shared.contracts.partners.api import operations as ops
from shared.contracts.partners.api.api_keys import ApiKeyIdentity, AuthenticateApiKey
from shared.contracts.partners.api.organisations import ActorScope, ResolveActorScope
from shared.errors import NotFound, PartnernetError
from shared.rpc import RpcClient
from shared.tenancy import SYSTEM, Actor, Role
from shared.tokens import OidcVerifier, TokenIssuer, unverified_issuer

CALLER = "partnernet.caller"  # key in the request's state
AUTH_ERROR = "partnernet.auth_error"


@dataclass(frozen=True)
class Caller:
    actor: Actor
    scopes: frozenset[str] | None = None  # None for tokens (the role decides); an API key's scopes otherwise
    api_key_id: str | None = None

    @property
    def rate_limit_key(self) -> str:
        return f"api-key:{self.api_key_id}" if self.api_key_id else f"subject:{self.actor.subject}"


K = TypeVar("K")
V = TypeVar("V")


class AnswerCache(Generic[K, V]):
    """Answers of the partners service, good for `ttl` seconds, negative ones (None) included; bounded."""

    def __init__(self, ttl: float, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[K, tuple[float, V | None]] = OrderedDict()

    def get(self, key: K) -> tuple[bool, V | None]:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self.clock():
            self._entries.pop(key, None)
            return False, None
        return True, entry[1]

    def put(self, key: K, answer: V | None, *, ttl: float | None = None) -> None:
        self._entries[key] = (self.clock() + (self.ttl if ttl is None else ttl), answer)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


class ApiKeyCache(AnswerCache[str, ApiKeyIdentity]):
    """Whose a key (by its SHA-256) is."""

    def forget_key(self, key_id: UUID) -> None:
        """A key was revoked: this gateway stops believing it at once, not when its answer runs out."""
        for digest, (_, identity) in list(self._entries.items()):
            if identity is not None and identity.key_id == key_id:
                self._entries.pop(digest, None)


class TenantScopeCache(AnswerCache[tuple[str | None, str | None, str | None], ActorScope]):
    """Whether a token's (municipality, library, partner) are registered and belong together. Tenants are never
    deleted and never move, so a yes holds for long (`known_ttl`); a no only for `ttl`, as it may come true."""

    def __init__(self, ttl: float, *, known_ttl: float = 3600.0, **options: Any) -> None:
        super().__init__(ttl, **options)
        self.known_ttl = known_ttl


class VerifiedTokens:
    """Bearer tokens this gateway has verified (signature, issuer, audience, claims), with their actor.

    A person's client sends the same token on every request, and checking its HMAC or RSA signature and its
    claims was a sixth of the gateway's time per request. An entry holds until the token expires, as
    verification would decide (`exp`, plus the OIDC leeway), checked on every use, and for at most `ttl`
    seconds (a key dropped from an OIDC issuer's key set stops its tokens within that time, as a revoked API
    key stops within the API-key cache's). Only tokens that verified are kept, by their SHA-256 (no usable
    credential in memory beyond its request); bounded, the oldest entry goes first.
    """

    def __init__(self, ttl: float, *, max_entries: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[bytes, tuple[float, Actor]] = {}

    @staticmethod
    def key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, key: bytes) -> Actor | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: bytes, actor: Actor, expires_at: float) -> None:
        if self.ttl <= 0:
            return
        self._entries.pop(key, None)
        self._entries[key] = (min(expires_at, self.clock() + self.ttl), actor)
        while len(self._entries) > self.max_entries:
            del self._entries[next(iter(self._entries))]


class Authenticator:
    def __init__(
        self,
        *,
        issuer: TokenIssuer,
        oidc: OidcVerifier | None,
        rpc: RpcClient,
        api_keys: ApiKeyCache,
        scopes: TenantScopeCache | None = None,
        tokens: VerifiedTokens | None = None,
    ) -> None:
        self.issuer = issuer
        self.oidc = oidc
        self.rpc = rpc
        self.api_keys = api_keys
        self.scopes = scopes or TenantScopeCache(api_keys.ttl, clock=api_keys.clock)
        self.tokens = tokens or VerifiedTokens(api_keys.ttl)

    async def authenticate(self, headers: Any, *, fresh: bool = False) -> Caller | None:
        """The caller, None without credentials; NotAuthorizedException for credentials that do not hold.
        `fresh` asks the partners service about an API key even where its answer is remembered (a live stream
        checking that its key still holds)."""
        authorization = headers.get("authorization", "")
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() == "apikey" and credential:
            return await self.from_api_key(credential, fresh=fresh)
        if not authorization:
            # `Authorization` wins when both are sent: one request, one caller.
            api_key = headers.get("x-api-key")
            return await self.from_api_key(api_key, fresh=fresh) if api_key else None
        if scheme.lower() != "bearer" or not credential:
            raise NotAuthorizedException("a bearer token or an API key is required")
        return Caller(actor=await self.from_token(credential))

    async def from_token(self, token: str) -> Actor:
        key = self.tokens.key(token)
        actor = self.tokens.get(key)
        if actor is None:
            try:
                if self.oidc is not None and unverified_issuer(token) == self.oidc.issuer:
                    actor, expires_at = await self.oidc.verify_until(token)
                else:
                    actor, expires_at = self.issuer.verify_until(token)
            except jwt.PyJWTError as exc:
                raise NotAuthorizedException(f"the token is not valid: {exc}") from exc
            self.tokens.put(key, actor, expires_at)
        # Its tenants are asked about every time: their own cache decides how long a yes or a no holds.
        return await self.registered(actor)

    async def registered(self, actor: Actor) -> Actor:
        """The actor, once its tenants are known to exist together: a signed token for a library of another
        municipality, or for one that was never registered, is no credential. A partner token without a
        municipality gets its partner's."""
        if actor.municipality is None and actor.library is None and actor.partner is None:
            return actor
        key = (actor.municipality, actor.library, actor.partner)
        known, scope = self.scopes.get(key)
        if not known:
            query = ResolveActorScope(
                municipality=actor.municipality,
                library=actor.library,
                partner=UUID(actor.partner) if actor.partner else None,
            )
            try:
                scope = await self.rpc.call(ops.RESOLVE_ACTOR_SCOPE, SYSTEM, query)
            except NotFound:
                scope = None
            self.scopes.put(key, scope, ttl=self.scopes.known_ttl if scope is not None else None)
        if scope is None:
            raise NotAuthorizedException("the token names a municipality, library or partner that is not registered")
        if actor.role is Role.PARTNER and actor.municipality is None:
            return msgspec.structs.replace(actor, municipality=scope.municipality)
        return actor

    async def from_api_key(self, key: str, *, fresh: bool = False) -> Caller:
        digest = hashlib.sha256(key.encode()).hexdigest()
        known, identity = (False, None) if fresh else self.api_keys.get(digest)
        if not known:
            try:
                identity = await self.rpc.call(ops.AUTHENTICATE_API_KEY, SYSTEM, AuthenticateApiKey(key=key))
            except NotFound:
                identity = None
            self.api_keys.put(digest, identity)
        if identity is None:
            raise NotAuthorizedException("the API key is not valid")
        actor = Actor(
            subject=f"api-key:{identity.key_id}",
            role=Role.PARTNER,
            municipality=identity.municipality,
            partner=str(identity.partner_id),
        )
        return Caller(actor=actor, scopes=frozenset(identity.scopes), api_key_id=str(identity.key_id))


# The console's session cookie (gateway/console/session.py SESSION_COOKIE) and where its pages live.
CONSOLE_SESSION_COOKIE = "pn_session"
CONSOLE_PREFIX = "/console"


async def authenticate_request(authenticator: Authenticator, scope: Scope, headers: dict[str, str]) -> Caller | None:
    """The caller, resolved once per request by the gateway's one pass (gateway/middleware.py) before rate
    limiting, and put in the request's state; routes decide whether they need one.

    Credentials that do not hold are remembered, not raised, so a public route (docs, AsyncAPI) still answers;
    `provide_actor` raises them on the routes that need an actor: a 401, or a 503 when the partners service
    could not say whose an API key or a token's tenant is.
    """
    state = scope.setdefault("state", {})
    try:
        caller = await authenticator.authenticate(headers)
    except (NotAuthorizedException, PartnernetError) as exc:  # PartnernetError: partners did not answer
        state[AUTH_ERROR] = exc
        return None
    if caller is None and str(scope.get("path", "")).startswith(CONSOLE_PREFIX):
        caller = await console_session(authenticator, headers)
    if caller is not None:
        state[CALLER] = caller
    return caller


async def console_session(authenticator: Authenticator, headers: dict[str, str]) -> Caller | None:
    """The console's pages carry their token in a cookie, not a header. Resolving it here too gives each
    signed-in person their own rate limit, instead of one shared by everyone behind an address."""
    morsel = SimpleCookie(headers.get("cookie", "")).get(CONSOLE_SESSION_COOKIE)
    if morsel is None or not morsel.value:
        return None
    try:
        return Caller(actor=await authenticator.from_token(morsel.value))
    except (NotAuthorizedException, PartnernetError):
        return None  # the console sends the person to its sign-in page


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    state = connection.scope.get("state", {})
    caller: Caller | None = state.get(CALLER)
    if caller is None:
        error = state.get(AUTH_ERROR)
        raise error if error is not None else NotAuthorizedException("a bearer token or an API key is required")
    return caller


# Path segments that name what an API key's scope is about; the last one on a route's path wins, so
# `/partners/{id}/feed/live` needs `feed:read` and `/courses/{id}/sessions` needs `sessions:…`.
RESOURCES = frozenset(
    {
        "municipalities",
        "libraries",
        "partners",
        "partnerships",
        "contacts",
        "subscriptions",
        "webhooks",
        "feed",
        "referrals",
        "volunteers",
        "interns",
        "vacancies",
        "applications",
        "trainings",
        "qualifications",
        "assignments",
        "hours",
        "courses",
        "sessions",
        "enrolments",
        "purchases",
        "budgets",
        "overview",
        "api-keys",
    }
)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What no API key may touch whatever its scopes say: a leaked key must not be able to make more keys.
PERSON_ONLY = frozenset({"api-keys"})


def required_scope(path_template: str, method: str, handler_opt: dict[str, Any] | None = None) -> str:
    """The scope an API key needs for a route: `opt={"scope": ...}` on the handler, else from its path."""
    if handler_opt and isinstance(handler_opt.get("scope"), str):
        return str(handler_opt["scope"])
    static = [s for s in path_template.strip("/").split("/") if s and not s.startswith("{")]
    nouns = [s for s in static if s in RESOURCES]
    resource = nouns[-1] if nouns else (static[2] if len(static) > 2 else "api")
    return f"{resource}:{'read' if method.upper() in READ_METHODS else 'write'}"


async def require_api_key_scope(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Guard on every route: an API key may only do what its scopes allow; tokens pass (their role decides).

    Async although it awaits nothing: Litestar runs a sync guard in a worker thread, once per request.
    """
    template = connection.scope.get("path_template") or connection.url.path
    check_api_key_scope(connection.scope, str(template), str(connection.scope.get("method", "GET")), handler.opt)


def check_api_key_scope(scope: Scope, path_template: str, method: str, handler_opt: dict[str, Any] | None) -> None:
    """The guard's rule, also for the routes the gateway's one pass answers itself (gateway/fast_writes.py)."""
    caller: Caller | None = scope.get("state", {}).get(CALLER)
    if caller is None or caller.scopes is None:
        return
    needed = required_scope(path_template, method, handler_opt)
    if needed.partition(":")[0] in PERSON_ONLY:
        raise PermissionDeniedException("API keys are managed with a person's token, not with an API key")
    if needed not in caller.scopes:
        raise PermissionDeniedException(f"this API key lacks the scope {needed}")
