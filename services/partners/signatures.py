"""Webhook signatures: how partnernet signs a delivery, and the check a partner's endpoint makes.

Every delivery is a CloudEvent in structured mode (`Content-Type: application/cloudevents+json`, the
body is the event as JSON; the event's `id` is the same on every try, so drop repeats by it), with

    Partnernet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>[,v1=<…>]

`secret` is the webhook's signing secret as text (`whsec_…`), `body` the raw bytes received. While a
rotated secret overlaps with its successor the header carries one `v1` per secret, so an endpoint that
still checks with the old secret keeps accepting until it switches. To check a delivery: take `t` and
every `v1`, refuse a `t` further than `tolerance` seconds from now (a replayed request), compute the HMAC
of `t`, a dot and the raw body with your secret, and accept if it equals any `v1` (constant time).

`verify_signature` below does exactly that, with the standard library only: copy it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Partnernet-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={sign(secret, timestamp, body)}" for secret in secrets)])


def verify_signature(secret: str, header: str, body: bytes, tolerance: float = 300, now: float | None = None) -> bool:
    """True if `header` (Partnernet-Signature) signs `body` with `secret` within `tolerance` seconds of now."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, signature) for signature in signatures)
