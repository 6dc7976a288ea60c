"""How NATS and the partners service agree on partners' own credentials: NATS auth callout.

The platform's own processes connect as one user whose password is in NATS_URL
(`nats://partnernet:<password>@host:port`) and may do everything. Every other connection is handed by
the server to the partners service on `$SYS.REQ.USER.AUTH`: it checks the key the partner presented and
answers with a user JWT that may read that partner's feed and nothing else (or with a refusal).

The JWTs are signed with an account nkey that is derived from the platform password, so a server
configured with `server_config(user, password)` and a partners service given the same NATS_URL trust
each other without exchanging keys; whoever knows the password could do anything on NATS anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import nacl.exceptions
import nacl.signing
import nkeys

PLATFORM_USER = "partnernet"
CALLOUT_SUBJECT = "$SYS.REQ.USER.AUTH"
# Partners' users are placed in the account the platform's user lives in (the server's global account
# when users are configured without accounts); their permissions, not an account, keep them apart.
ACCOUNT = "$G"
REQUEST_AUDIENCE = "nats-authorization-request"

# What kind of key an nkey is (nats-io's nkeys): its first base32 letter, 'A' for an account, 'N' a server.
PREFIX_ACCOUNT = nkeys.PREFIX_BYTE_ACCOUNT
PREFIX_SERVER = nkeys.PREFIX_BYTE_SERVER

_DERIVATION = b"partnernet nats auth callout issuer v1"


def decode_public_key(text: str) -> tuple[int, bytes]:
    """The prefix byte and the raw ed25519 key of a public nkey; ValueError if it is not one.

    nats-io's nkeys for Python encodes keys and checks seeds but has no decoder for a public key alone (the Go
    library's `Decode`): this is that, on its CRC-16.
    """
    try:
        data = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not an nkey: {text!r}") from exc
    if len(data) != 35 or nkeys.crc16_checksum(data[:-2]) != data[-2:] or not nkeys.valid_public_prefix_byte(data[0]):
        raise ValueError(f"not an nkey: {text!r}")
    return data[0], data[1:-2]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Issuer:
    """The account nkey that signs the callout's answers and the users' JWTs."""

    seed: bytes  # the 32 raw bytes of the ed25519 seed

    @cached_property
    def _key_pair(self) -> nkeys.KeyPair:
        return nkeys.from_seed(nkeys.encode_seed(self.seed, nkeys.PREFIX_BYTE_ACCOUNT))

    @property
    def public_key(self) -> str:
        return str(self._key_pair.public_key.decode())

    def sign(self, claims: dict[str, Any], *, issued_at: int) -> str:
        """A NATS JWT (`ed25519-nkey`) of `claims`, issued by this account."""
        body = {**claims, "iss": self.public_key, "iat": issued_at}
        body.pop("jti", None)
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).digest()
        body["jti"] = base64.b32encode(digest).decode().rstrip("=")
        header = _b64(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        signature = self._key_pair.sign(f"{header}.{payload}".encode())
        return f"{header}.{payload}.{_b64(signature)}"


def issuer_for(platform_password: str) -> Issuer:
    return Issuer(hmac.new(platform_password.encode(), _DERIVATION, hashlib.sha256).digest())


def decode_jwt(token: str, *, issuer_prefix: int | None = None) -> dict[str, Any]:
    """The claims of a NATS JWT whose signature holds for the key in its `iss` (of the given kind)."""
    try:
        header, payload, signature = token.split(".")
        claims: dict[str, Any] = json.loads(_unb64(payload))
        prefix, raw = decode_public_key(str(claims.get("iss", "")))
        nacl.signing.VerifyKey(raw).verify(f"{header}.{payload}".encode(), _unb64(signature))
    except (ValueError, nacl.exceptions.BadSignatureError, binascii.Error) as exc:
        raise ValueError(f"not a valid NATS JWT: {exc}") from exc
    if issuer_prefix is not None and prefix != issuer_prefix:
        raise ValueError("the JWT is not issued by the expected kind of key")
    return claims


def platform_credentials(nats_url: str) -> tuple[str, str] | None:
    """The user and password of the first server in NATS_URL, if it names them."""
    first = nats_url.split(",")[0].strip()
    parts = urlsplit(first)
    if parts.username and parts.password:
        return parts.username, parts.password
    return None


def cluster_servers(nats_url: str) -> tuple[list[str], str | None, str | None]:
    """The servers of NATS_URL (comma-separated: a cluster's nodes) and the platform user as connect options.

    nats-py takes one URL per server and sends the credentials of the URL it dials; a node it learns from the
    cluster (or fails over to) has none, and the server hands such a connection to the callout, which refuses
    it. Given as options (`user`, `password`) they go to every node, so a client survives the loss of its node.
    """
    user, password = platform_credentials(nats_url) or (None, None)
    return without_credentials(nats_url), user, password


def without_credentials(nats_url: str) -> list[str]:
    """The servers of NATS_URL as partners connect to them: without the platform's user and password."""
    servers = []
    for server in nats_url.split(","):
        parts = urlsplit(server.strip())
        netloc = parts.hostname or ""
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        servers.append(urlunsplit((parts.scheme, netloc, parts.path, "", "")))
    return servers


def server_config(user: str, password: str) -> str:
    """The `authorization` block of a nats-server configuration that sends partners to the callout."""
    issuer = issuer_for(password)
    return (
        "# Generated by partnernet: the platform's user may do everything; every other connection is\n"
        "# authorised by the partners service (auth callout) for the partner's own feed only.\n"
        "authorization {\n"
        f"  users: [ {{ user: {json.dumps(user)}, password: {json.dumps(password)} }} ]\n"
        "  auth_callout {\n"
        f"    issuer: {issuer.public_key}\n"
        f"    auth_users: [ {json.dumps(user)} ]\n"
        "  }\n"
        "}\n"
    )
