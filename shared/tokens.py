"""Tokens: the embedded issuer's HS256 JWTs, and an OpenID Connect issuer's RS256/ES256 JWTs, both as an actor."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt

from shared.tenancy import Actor, Role

ISSUER = "partnernet"
AUDIENCE = "partnernet-api"


class TokenIssuer:
    def __init__(self, secret: str) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 characters")
        self._secret = secret

    def issue(self, actor: Actor, *, valid_for: timedelta = timedelta(hours=12)) -> str:
        now = datetime.now(UTC)
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
        claims = jwt.decode(
            token,
            self._secret,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "role"]},
        )
        try:
            role = Role(claims["role"])
        except ValueError as exc:
            raise jwt.InvalidTokenError(f"unknown role {claims['role']!r}") from exc
        scope = {key: claims.get(key) for key in ("municipality", "library", "partner")}
        for key, value in scope.items():
            if value is not None and not isinstance(value, str):
                raise jwt.InvalidTokenError(f"the {key} claim must be a string")
        actor = Actor(subject=str(claims["sub"]), role=role, **scope)
        check_scope_is_complete(actor)
        return actor


def check_scope_is_complete(actor: Actor) -> None:
    """A token whose role lacks its scope would see too much or nothing; refuse it outright."""
    missing = {
        Role.COORDINATOR: ["municipality"],
        Role.STAFF: ["municipality", "library"],
        Role.PARTNER: ["partner"],
    }.get(actor.role, [])
    for key in missing:
        if getattr(actor, key) is None:
            raise jwt.InvalidTokenError(f"a {actor.role.value} token needs a {key}")


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
        actor = Actor(
            subject=str(claims["sub"]),
            role=role_from_claim(claim_at(claims, self.claims.role)),
            municipality=scope_claim(claims, self.claims.municipality),
            library=scope_claim(claims, self.claims.library),
            partner=scope_claim(claims, self.claims.partner),
        )
        check_scope_is_complete(actor)
        return actor

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
