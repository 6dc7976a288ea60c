"""The services' FastStream broker (JetStream consumers, the outbox's publishes), with span names of our own.

Apart from `shared.messaging`, so that a process without a broker (the gateway) does not import FastStream.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import nats.errors
from faststream.nats import NatsBroker
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.nats.opentelemetry.provider import (
    NatsTelemetrySettingsProvider,
    telemetry_attributes_provider_factory,
)
from faststream.nats.security import NatsUserPassword
from nats.js.client import JetStreamContext

from shared.messaging import MAX_OUTSTANDING_PINGS, PING_INTERVAL_SECONDS
from shared.nats_callout import cluster_servers
from shared.telemetry import Telemetry, stable_subject


def empty_fetches_time_out_as_nats_errors() -> None:
    """Work around a mismatch between nats-py 2.16 and FastStream 0.7.8 (both the newest on PyPI, Nov 2026).

    FastStream's pull consumers loop on `PullSubscription.fetch` and treat `nats.errors.TimeoutError` as "no
    messages yet". nats-py's `_fetch_n` raises the plain `asyncio.TimeoutError` instead when the server's
    "408 Request Timeout" for an empty fetch arrives just before the client's own deadline (a few percent of
    empty fetches here). FastStream lets that escape: the consumer's task dies, its supervisor logs "Task-N
    raised an exception, retrying..." and starts it again. Converting it here keeps the loop running; nats-py
    documents `nats.errors.TimeoutError` (a subclass of `asyncio.TimeoutError`) for fetch anyway, so other
    callers see no difference. Idempotent; tests/shared/test_messaging.py fails once upstream changes.
    """
    fetch = JetStreamContext.PullSubscription.fetch
    if getattr(fetch, "partnernet_patched", False):
        return

    @functools.wraps(fetch)
    async def fetch_with_nats_timeouts(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await fetch(self, *args, **kwargs)
        except nats.errors.TimeoutError:
            raise
        except TimeoutError as exc:  # asyncio's (the builtin, since Python 3.11)
            raise nats.errors.TimeoutError from exc

    fetch_with_nats_timeouts.partnernet_patched = True  # type: ignore[attr-defined]
    JetStreamContext.PullSubscription.fetch = fetch_with_nats_timeouts  # type: ignore[method-assign]


class StableNames(NatsTelemetrySettingsProvider):
    """FastStream names NATS spans (and labels its messaging metrics) by the subject; ours stay stable.

    The real subject remains on the span (`messaging.destination.name` on a publish, the publish name on a
    consume); only the name and the metric label lose the tenant, the partner and the reply inbox.
    """

    def get_publish_destination_name(self, cmd: Any) -> str:
        return stable_subject(super().get_publish_destination_name(cmd))

    def get_consume_destination_name(self, msg: Any) -> str:
        return stable_subject(super().get_consume_destination_name(msg))


def stable_names(msg: Any) -> Any:
    """FastStream's provider for batches and key-value watches; ours for single messages and publishes."""
    provider = telemetry_attributes_provider_factory(msg)
    return StableNames() if isinstance(provider, NatsTelemetrySettingsProvider) else provider


class NatsTelemetry(NatsTelemetryMiddleware):
    def __init__(self, *, tracer_provider: Any) -> None:
        super().__init__(tracer_provider=tracer_provider)
        self._settings_provider_factory = stable_names


def create_broker(nats_url: str, *, name: str, telemetry: Telemetry) -> NatsBroker:
    empty_fetches_time_out_as_nats_errors()
    servers, user, password = cluster_servers(nats_url)
    return NatsBroker(
        servers,
        security=NatsUserPassword(user, password) if user and password else None,
        name=f"partnernet-{name}",
        middlewares=[NatsTelemetry(tracer_provider=telemetry.tracer_provider)],
        max_reconnect_attempts=-1,  # a broker restart must never end a service
        reconnect_time_wait=1,
        ping_interval=PING_INTERVAL_SECONDS,  # a hung node is left within 20-30 s (shared/messaging.py)
        max_outstanding_pings=MAX_OUTSTANDING_PINGS,
        graceful_timeout=10.0,
        # FastStream's own lines go through our JSON logs; per-message lines only at debug level.
        logger=logging.getLogger("faststream"),
        log_level=logging.DEBUG,
    )
