"""Webhook signatures: Standard Webhooks (https://www.standardwebhooks.com), and the old header for a transition.

Every delivery is a CloudEvent in structured mode (`Content-Type: application/cloudevents+json`, the
body is the event as JSON), signed as Standard Webhooks say, so a partner checks it with the ready-made
library of its language (`standardwebhooks` for Python, JavaScript, Go, Java, C#, PHP, Ruby, Rust …):

    webhook-id: <the CloudEvent's id: the same on every try, so drop repeats by it>
    webhook-timestamp: <unix seconds>
    webhook-signature: v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.{body}")>[ v1,<…>]

`key` is the base64-decoded part of the webhook's secret after `whsec_`. While a rotated secret overlaps
with its successor the header carries one `v1,…` per secret, so an endpoint that still checks with the old
secret keeps accepting until it switches. In Python:

    from standardwebhooks import Webhook
    Webhook(secret).verify(body, headers)  # raises WebhookVerificationError; refuses a timestamp > 5 min off

The old header, in partnernet's own format, is sent beside them during a transition (until every partner
checks the standard headers; the operators announce its end):

    Partnernet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>[,v1=<…>]

with `secret` the whole secret as text. Secrets made before the switch (`whsec_` and URL-safe characters) are
not always readable as Standard Webhooks keys: deliveries signed with such a secret carry only the old
header, until the partner rotates it (`POST …/webhooks/{id}/rotate-secret`) and gets a standard one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
LEGACY_SIGNATURE_HEADER = "Partnernet-Signature"  # sent beside the standard headers for a transition


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str | None:
    """`v1,<base64>` as Standard Webhooks sign; None for an older secret the standard cannot read as a key."""
    try:
        webhook = Webhook(secret)
    except (binascii.Error, ValueError, RuntimeError):
        return None
    return webhook.sign(message_id, datetime.fromtimestamp(timestamp, UTC), body.decode())


def signed_headers(secrets: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one delivery: the standard three (signed with every secret that can), and the old one."""
    standard = [s for s in (standard_signature(secret, message_id, timestamp, body) for secret in secrets) if s]
    headers = {ID_HEADER: message_id, TIMESTAMP_HEADER: str(timestamp)}
    if standard:
        headers[SIGNATURE_HEADER] = " ".join(standard)
    headers[LEGACY_SIGNATURE_HEADER] = signature_header(secrets, timestamp, body)
    return headers


# --- the old header (Partnernet-Signature), kept during the transition --------------------------


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
