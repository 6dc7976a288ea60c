"""When a failed send is tried again: webhook deliveries and messages by e-mail. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_seconds: float

    def delay(self, attempts: int, jitter: float) -> timedelta:
        """After the n-th failed try: base · 2^(n-1), capped, times a jitter in [0.5, 1.0) so endpoints that
        came back are not hit by every waiting delivery at once. `jitter` is a random number in [0, 1)."""
        exponential = min(self.max_seconds, self.base_seconds * 2 ** max(attempts - 1, 0))
        return timedelta(seconds=exponential * (0.5 + jitter / 2))

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
