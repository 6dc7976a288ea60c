"""How feeds leave the partners service: each partner's NATS subject and durable consumer, and HTTP for webhooks.

Built once in app.py from the settings; nothing here connects before the service starts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from uuid import UUID

import httpx
import nats.js.errors
from faststream.nats import NatsBroker
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.partners.domain import feeds
from shared.contracts.partners.api.feeds import NatsFeedAccess
from shared.nats_callout import Issuer, issuer_for, platform_credentials, without_credentials

FEED_CONSUMER_ACK_WAIT_SECONDS = 30.0


@dataclass
class NatsFeeds:
    broker: NatsBroker
    servers: list[str]
    issuer: Issuer | None  # None: the server does not send partners to us (no platform password in NATS_URL)

    @classmethod
    def from_url(cls, broker: NatsBroker, nats_url: str) -> NatsFeeds:
        credentials = platform_credentials(nats_url)
        return cls(
            broker=broker,
            servers=without_credentials(nats_url),
            issuer=issuer_for(credentials[1]) if credentials else None,
        )

    def access(self, partner_id: UUID) -> NatsFeedAccess:
        return NatsFeedAccess(
            servers=self.servers,
            stream=feeds.FEED_STREAM,
            durable=feeds.feed_durable(partner_id),
            subject=feeds.feed_subject(partner_id),
            inbox_prefix=feeds.feed_inbox_prefix(partner_id),
            enforced=self.issuer is not None,
        )

    async def ensure_consumer(self, partner_id: UUID) -> None:
        """The partner's durable consumer: from the first entry on, so a partner that was away catches up."""
        config = ConsumerConfig(
            durable_name=feeds.feed_durable(partner_id),
            filter_subject=feeds.feed_subject(partner_id),
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=FEED_CONSUMER_ACK_WAIT_SECONDS,
            max_ack_pending=1000,
        )
        js = self.broker.connection.jetstream()
        try:
            await js.add_consumer(feeds.FEED_STREAM, config=config)
        except nats.js.errors.BadRequestError:
            # It exists with another configuration (an older release): the durable and its position stay.
            await js.consumer_info(feeds.FEED_STREAM, feeds.feed_durable(partner_id))


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: BaseException | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    """POSTs one delivery; never raises: the answer (or the error) is what the delivery log records."""

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout = timeout_seconds

    async def post(self, client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        started = time.monotonic()
        try:
            response = await client.post(url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            return Answer(None, exc, int((time.monotonic() - started) * 1000))
        return Answer(response.status_code, None, int((time.monotonic() - started) * 1000))

    def client(self) -> httpx.AsyncClient:
        # Redirects are not followed: a moved endpoint must be registered again, not guessed.
        return httpx.AsyncClient(follow_redirects=False, headers={"User-Agent": "partnernet-webhooks/1"})
