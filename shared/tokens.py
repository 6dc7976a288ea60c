"""Tokens: the embedded issuer's HS256 JWTs, and an OpenID Connect issuer's RS256/ES256 JWTs, both as an actor."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import jwt

from shared.clock import Clock, SystemClock
from shared.tenancy import Actor, Role, actor_problem

ISSUER = "partnernet"
AUDIENCE = "partnernet-api"
# The longest a token may be valid: a person's session, not a system's credential (partner systems use API
# keys). A token that claims to live longer, or whose times are not numbers, is refused, whoever signed it.
MAX_LIFETIME = timedelta(days=31)
TIME_CLAIMS = ("exp", "iat", "nbf")


class TokenIssuer:
    def __init__(self, secret: str, *, clock: Clock | None = None) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 characters")
        self._secret = secret
        # The time a token is issued at and checked against: a test moves it past an expiry instead of waiting.
        self._clock = clock or SystemClock()

    def issue(self, actor: Actor, *, valid_for: timedelta = timedelta(hours=12)) -> str:
        """A token for `actor`; ValueError for one the gateway would refuse (the tenants' existence is checked
        where they are known: the gateway, and `partnernet token` against the database)."""
        problem = actor_problem(actor)
        if problem is not None:
            raise ValueError(problem)
        if valid_for > MAX_LIFETIME:
            raise ValueError(f"a token is valid for at most {MAX_LIFETIME.days} days")
        now = self._clock.now()
        claims: dict[str, object] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": actor.subject,
            "iat": now,
            "exp": now + valid_for,
            "role": actor.role.value,
        }
        for key in ("municipality", "library", "partner"):
            if getattr(actor, key) is not None:
                claims[key] = getattr(actor, key)
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Actor:
        return self.verify_until(token)[0]

    def verify_until(self, token: str) -> tuple[Actor, float]:
        """The token's actor and when it stops being valid (its `exp`, as PyJWT checks it: valid while later)."""
        claims = jwt.decode(
            token,
            self._secret,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            # PyJWT would check the times against the wall clock; they are checked against this issuer's below.
            options={"require": ["exp", "sub", "role"], "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
        if claims["aud"] != AUDIENCE:  # PyJWT also accepts a list that contains it
            raise jwt.InvalidAudienceError(f"the audience must be {AUDIENCE!r}")
        now = self._clock.now().timestamp()
        check_times(claims, now=now)
        check_valid_at(claims, now)
        try:
            role = Role(claims["role"])
        except (ValueError, TypeError) as exc:
            raise jwt.InvalidTokenError(f"unknown role {claims['role']!r}") from exc
        scope = {key: claims.get(key) for key in ("municipality", "library", "partner")}
        for key, value in scope.items():
            if value is not None and not isinstance(value, str):
                raise jwt.InvalidTokenError(f"the {key} claim must be a string")
        if not isinstance(claims["sub"], str):
            raise jwt.InvalidTokenError("the sub claim must be a string")
        actor = Actor(subject=claims["sub"], role=role, **scope)
        check_actor(actor)
        return actor, float(claims["exp"])


def check_actor(actor: Actor) -> None:
    """A token whose subject or scope does not fit its role would see too much or nothing; refuse it outright."""
    problem = actor_problem(actor)
    if problem is not None:
        raise jwt.InvalidTokenError(problem)


def check_times(claims: dict[str, Any], *, now: float | None = None) -> None:
    """`exp`, `iat` and `nbf` are numbers (PyJWT reads "123" and 1e20 too), and `exp` is within MAX_LIFETIME."""
    for name in TIME_CLAIMS:
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise jwt.InvalidTokenError(f"the {name} claim must be a number of seconds")
    latest = (time.time() if now is None else now) + MAX_LIFETIME.total_seconds()
    if claims["exp"] > latest:
        raise jwt.InvalidTokenError(f"the token claims to be valid for more than {MAX_LIFETIME.days} days")


def check_valid_at(claims: dict[str, Any], now: float) -> None:
    """PyJWT's rules for a token's times, at `now`: valid while `exp` is later, not before `iat` or `nbf`. The claims
    are numbers (check_times)."""
    if int(claims["exp"]) <= now:
        raise jwt.ExpiredSignatureError("Signature has expired")
    for name in ("iat", "nbf"):
        if name in claims and int(claims[name]) > now:
            raise jwt.ImmatureSignatureError(f"The token is not yet valid ({name})")


def unverified_issuer(token: str) -> str | None:
    """Which issuer a token claims to come from, to choose the verifier; nothing is trusted before verification."""
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return issuer if isinstance(issuer, str) else None


@dataclass(frozen=True, kw_only=True)
class ClaimNames:
    """Where an identity provider puts partnernet's role and scope; each a claim name or a dotted path."""

    role: str = "role"
    municipality: str = "municipality"
    library: str = "library"
    partner: str = "partner"


@dataclass(frozen=True)
class ProviderConfiguration:
    """What partnernet uses of an OpenID Connect provider's discovery document."""

    jwks_uri: str
    authorization_endpoint: str | None = None  # the console's sign-in needs these two
    token_endpoint: str | None = None


class OidcVerifier:
    """Verifies an OpenID Connect issuer's access tokens against the keys of its JWKS, without blocking.

    The discovery document (`<issuer>/.well-known/openid-configuration`) and the key set are fetched over
    async HTTP and kept for `lifespan` seconds; a token naming a key id the set does not hold fetches the
    set again (key rotation), at most once per `refetch_interval`, so tokens with made-up key ids cannot
    make the gateway hammer the provider. The console's sign-in reads the same discovery document here.
    """

    ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        claims: ClaimNames | None = None,
        lifespan: float = 300.0,
        refetch_interval: float = 10.0,
        leeway_seconds: float = 30.0,
        http_timeout: float = 5.0,
    ) -> None:
        if not audience:
            raise ValueError("an OpenID Connect issuer needs an audience (PARTNERNET_OIDC_AUDIENCE)")
        self.issuer = issuer
        self.audience = audience
        self.claims = claims or ClaimNames()
        self._jwks_url = jwks_url
        self._lifespan = lifespan
        self._refetch_interval = refetch_interval
        self._leeway = leeway_seconds
        self._http_timeout = http_timeout
        self._configuration: tuple[float, ProviderConfiguration] | None = None
        self._keys: tuple[float, dict[str | None, jwt.PyJWK]] | None = None

    async def configuration(self) -> ProviderConfiguration:
        """The provider's discovery document; `jwt.InvalidTokenError` when it cannot be read."""
        if self._configuration is not None and self._configuration[0] > time.monotonic():
            return self._configuration[1]
        document = await self._get_json(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise jwt.InvalidTokenError("the issuer's configuration names no jwks_uri")
        configuration = ProviderConfiguration(
            jwks_uri=jwks_uri,
            authorization_endpoint=_optional_str(document.get("authorization_endpoint")),
            token_endpoint=_optional_str(document.get("token_endpoint")),
        )
        self._configuration = (time.monotonic() + self._lifespan, configuration)
        return configuration

    async def verify(self, token: str) -> Actor:
        return (await self.verify_until(token))[0]

    async def verify_until(self, token: str) -> tuple[Actor, float]:
        """The token's actor and when it stops being valid (its `exp` plus the leeway, as PyJWT checks it)."""
        key = await self._signing_key(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=list(self.ALGORITHMS),
            audience=self.audience,
            issuer=self.issuer,
            leeway=self._leeway,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
        check_times(claims)
        if not isinstance(claims["sub"], str):
            raise jwt.InvalidTokenError("the sub claim must be a string")
        actor = Actor(
            subject=claims["sub"],
            role=role_from_claim(claim_at(claims, self.claims.role)),
            municipality=scope_claim(claims, self.claims.municipality),
            library=scope_claim(claims, self.claims.library),
            partner=scope_claim(claims, self.claims.partner),
        )
        check_actor(actor)
        return actor, float(claims["exp"]) + self._leeway

    async def _signing_key(self, token: str) -> jwt.PyJWK:
        key_id = jwt.get_unverified_header(token).get("kid")
        if self._keys is not None and self._keys[0] + self._lifespan > time.monotonic():
            fetched_at, keys = self._keys
        else:
            fetched_at, keys = await self._fetch_keys()
        if key_id not in keys and fetched_at + self._refetch_interval <= time.monotonic():
            fetched_at, keys = await self._fetch_keys()  # perhaps the provider rotated its keys
        if key_id not in keys:
            raise jwt.InvalidTokenError(f"no signing key for this token: the issuer's key set has no key {key_id!r}")
        return keys[key_id]

    async def _fetch_keys(self) -> tuple[float, dict[str | None, jwt.PyJWK]]:
        url = self._jwks_url or (await self.configuration()).jwks_uri
        try:
            key_set = jwt.PyJWKSet.from_dict(await self._get_json(url))
        except jwt.PyJWKSetError as exc:
            raise jwt.InvalidTokenError(f"no signing key for this token: {exc}") from exc
        usable = {key.key_id: key for key in key_set.keys if key.public_key_use in ("sig", None)}
        self._keys = (time.monotonic(), usable)
        return self._keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self._http_timeout) as client:
                response = await client.get(url, headers={"Accept": "application/json"})
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise jwt.InvalidTokenError(f"the issuer's {url} could not be read: {exc}") from exc
        if not isinstance(document, dict):
            raise jwt.InvalidTokenError(f"the issuer's {url} is not a JSON object")
        return document


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def claim_at(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def role_from_claim(value: Any) -> Role:
    """A string, or a list in which exactly one value is a partnernet role (other roles of the IdP are ignored)."""
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    roles = {Role(v) for v in values if isinstance(v, str) and v in Role._value2member_map_}
    if len(roles) != 1:
        raise jwt.InvalidTokenError("the token must carry exactly one partnernet role")
    return roles.pop()


def scope_claim(claims: dict[str, Any], path: str) -> str | None:
    value = claim_at(claims, path)
    if value is None:
        return None
    if not isinstance(value, str):
        raise jwt.InvalidTokenError(f"the {path} claim must be a string")
    return value
