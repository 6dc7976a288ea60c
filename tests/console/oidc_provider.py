"""A small OpenID Connect provider for the tests: discovery, an authorization endpoint that signs the person in
at once, a token endpoint that checks the code and the PKCE verifier, and its keys. On localhost only."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import jwt

from tests.gateway.jwks import Keys


@dataclass
class Provider:
    issuer: str
    client_id: str
    claims: dict[str, Any]
    keys: Keys = field(default_factory=Keys)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    nonce_override: str | None = None  # an ID token made for another sign-in

    def token(self, audience: str, **extra: Any) -> str:
        now = datetime.now(UTC)
        claims = {"iss": self.issuer, "aud": audience, "iat": now, "exp": now + timedelta(minutes=5), **extra}
        return jwt.encode(claims, self.keys.rsa, algorithm="RS256", headers={"kid": "rsa-1"})


@contextlib.contextmanager
def serve_provider(client_id: str, claims: dict[str, Any]) -> Iterator[Provider]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    provider = Provider(issuer=f"http://127.0.0.1:{server.server_address[1]}", client_id=client_id, claims=claims)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._json(
                    {
                        "issuer": provider.issuer,
                        "authorization_endpoint": f"{provider.issuer}/authorize",
                        "token_endpoint": f"{provider.issuer}/token",
                        "jwks_uri": f"{provider.issuer}/jwks",
                    }
                )
            elif url.path == "/jwks":
                self._json(provider.keys.jwks())
            elif url.path == "/authorize":
                if query.get("client_id") != provider.client_id or query.get("code_challenge_method") != "S256":
                    self.send_error(400)
                    return
                code = secrets.token_urlsafe(16)
                provider.codes[code] = query
                self.send_response(302)
                self.send_header(
                    "location", f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
                )
                self.end_headers()
            else:
                self.send_error(404)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
            provider.token_requests.append(form)
            asked = provider.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if (
                asked is None
                or challenge != asked["code_challenge"]
                or form.get("redirect_uri") != asked["redirect_uri"]
                or form.get("client_id") != provider.client_id
            ):
                self._json({"error": "invalid_grant"}, status=400)
                return
            subject = {"sub": "oidc-person-7", **provider.claims}
            nonce = provider.nonce_override or asked["nonce"]
            self._json(
                {
                    "token_type": "Bearer",
                    "access_token": provider.token(provider.client_id, **subject),
                    "id_token": provider.token(provider.client_id, nonce=nonce, **subject),
                    "expires_in": 300,
                }
            )

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
