"""Tokens of the embedded issuer: HS256 JWTs that carry the actor's role and scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
