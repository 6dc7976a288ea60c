"""Tokens: the embedded issuer's HS256 JWTs, and an OpenID Connect issuer's RS256/ES256 JWTs, both as an actor."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

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


class OidcVerifier:
    """Verifies an OpenID Connect issuer's access tokens against the keys of its JWKS.

    `PyJWKClient` keeps the key set for `jwks_lifespan` seconds and fetches it again when a token names a
    key id it does not know (key rotation). Fetching is blocking I/O: call `verify` from a worker thread.
    """

    ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        claims: ClaimNames | None = None,
        jwks_lifespan: float = 300.0,
        leeway_seconds: float = 30.0,
    ) -> None:
        if not audience:
            raise ValueError("an OpenID Connect issuer needs an audience (PARTNERNET_OIDC_AUDIENCE)")
        self.issuer = issuer
        self.audience = audience
        self.claims = claims or ClaimNames()
        self._jwks_url = jwks_url
        self._jwks_lifespan = jwks_lifespan
        self._leeway = leeway_seconds
        self._client: jwt.PyJWKClient | None = None

    def _keys(self) -> jwt.PyJWKClient:
        if self._client is None:
            url = self._jwks_url or discover_jwks_url(self.issuer)
            self._client = jwt.PyJWKClient(url, cache_keys=True, lifespan=int(self._jwks_lifespan), timeout=5)
        return self._client

    def verify(self, token: str) -> Actor:
        try:
            key = self._keys().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientError as exc:
            raise jwt.InvalidTokenError(f"no signing key for this token: {exc}") from exc
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


def discover_jwks_url(issuer: str) -> str:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            configuration = json.load(response)
    except (OSError, ValueError) as exc:
        raise jwt.InvalidTokenError(f"the issuer's configuration could not be read: {exc}") from exc
    jwks_uri = configuration.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise jwt.InvalidTokenError("the issuer's configuration names no jwks_uri")
    return jwks_uri


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
