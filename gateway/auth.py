"""Who is calling: the actor comes from a signed token, never from the request body or path."""

from __future__ import annotations

import jwt
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException

from shared.tenancy import Actor
from shared.tokens import TokenIssuer


def actor_from_connection(connection: ASGIConnection, issuer: TokenIssuer) -> Actor:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthorizedException("a bearer token is required")
    try:
        return issuer.verify(token)
    except jwt.PyJWTError as exc:
        raise NotAuthorizedException(f"the token is not valid: {exc}") from exc
