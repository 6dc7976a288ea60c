"""An OpenID Connect issuer of the tests' own: RSA and EC keys, a real JWKS endpoint on localhost, tokens."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://login.gemeente.example/realms/bibliotheek"
AUDIENCE = "partnernet-api"


class Keys:
    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rsa_kid = "rsa-1"
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.fetches = 0

    def rotate(self) -> None:
        """The provider replaces its RSA key with a new one under a new key id."""
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rsa_kid = f"rsa-{int(self.rsa_kid.removeprefix('rsa-')) + 1}"

    def jwks(self) -> dict[str, Any]:
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key()))
        ec_jwk = json.loads(ECAlgorithm.to_jwk(self.ec.public_key()))
        return {
            "keys": [
                {**rsa_jwk, "kid": self.rsa_kid, "use": "sig", "alg": "RS256"},
                {**ec_jwk, "kid": "ec-1", "use": "sig", "alg": "ES256"},
            ]
        }


@contextlib.contextmanager
def serve_jwks(keys: Keys) -> Iterator[str]:
    """A real JWKS endpoint (and discovery document) on localhost."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/jwks":
                keys.fetches += 1
                body = json.dumps(keys.jwks()).encode()
            elif self.path == "/.well-known/openid-configuration":
                address: Any = self.server.server_address  # an IPv4 server's: (host, port)
                host, port = address[:2]
                body = json.dumps({"issuer": "x", "jwks_uri": f"http://{host}:{port}/jwks"}).encode()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks"
    server.shutdown()


def token(keys: Keys, *, alg: str = "RS256", kid: str = "rsa-1", **overrides: Any) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "medewerker-17",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "role": "staff",
        "municipality": "zuidstad",
        "library": "bieb-zuid",
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    key = keys.rsa if alg.startswith("RS") else keys.ec
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})
