"""Partners' API keys: high-entropy random keys of which only a SHA-256 digest is kept. Pure.

A key has 256 random bits, so a fast hash suffices: there is nothing to guess from the digest, and the
gateway can check a key on every request without a slow key-derivation function.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

KEY_PREFIX = "pnk_"
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 6
FEED_SCOPE = "feed:read"  # reads the feed: over HTTP, and on NATS with the partner's own credentials


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def shown_prefix(key: str) -> str:
    return key[:SHOWN_PREFIX_LENGTH]


def is_usable(*, revoked_at: datetime | None, expires_at: datetime | None, partner_status: str, now: datetime) -> bool:
    """A revoked or expired key, or a key of a partner that ended, opens nothing."""
    if revoked_at is not None or partner_status == "ended":
        return False
    return expires_at is None or now < expires_at


def distinct_scopes(scopes: list[str]) -> list[str]:
    return sorted(set(scopes))
