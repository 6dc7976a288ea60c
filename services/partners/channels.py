"""How feeds leave the partners service: each partner's NATS subject and durable consumer, and HTTP for webhooks.

Built once in app.py from the settings; nothing here connects before the service starts.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from uuid import UUID

import httpx
import nats.js.errors
from faststream.nats import NatsBroker
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.partners.domain import feeds, targets
from shared.contracts.partners.api.feeds import NatsFeedAccess
from shared.errors import InvalidInput
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


class WebhookTargets:
    """A webhook's host, resolved and checked (services/partners/domain/targets.py): when the webhook is
    registered or changed, and again when each delivery connects, to the address that was checked."""

    def __init__(self, policy: targets.TargetPolicy, resolve_seconds: float = 3.0) -> None:
        self.policy = policy
        self.resolve_seconds = resolve_seconds

    async def resolve(self, host: str, port: int) -> list[targets.Address]:
        """Every address the name has now (an address literal is its own); OSError or TimeoutError if none."""
        literal = targets.literal_address(host)
        if literal is not None:
            return [literal]
        loop = asyncio.get_running_loop()
        found = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP), self.resolve_seconds
        )
        return [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in found]

    def endpoint(self, url: str) -> tuple[str, httpx.URL]:
        """The URL's host, checked by the rules (targets.py reads it as urllib does), and the URL as the deliveries'
        HTTP client reads it; InvalidInput where the client cannot read it (`https://0177.0.0.1/`, a host of
        full-width digits), which was a 500. Whatever host the client reads, a delivery connects to the address
        checked for this one (`pinned`)."""
        host = targets.check_endpoint_url(url, self.policy)
        try:
            return host, httpx.URL(url)
        except httpx.InvalidURL:
            raise InvalidInput(targets.REFUSED) from None

    async def check(self, url: str) -> None:
        """At registration: the URL's rules, and the addresses its name has now. A name that does not resolve yet
        is let pass: its deliveries are checked when they connect."""
        host, parsed = self.endpoint(url)
        try:
            addresses = await self.resolve(host, parsed.port or 443)
        except (OSError, TimeoutError):
            return
        targets.check_addresses(host, addresses, self.policy)

    async def pinned(self, url: str) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
        """The URL to connect to (the checked address in place of the name), the Host header and the TLS name to
        send; InvalidInput for a target that is not allowed, OSError or TimeoutError for a name that is gone."""
        host, parsed = self.endpoint(url)
        addresses = await self.resolve(host, parsed.port or (443 if parsed.scheme == "https" else 80))
        targets.check_addresses(host, addresses, self.policy)
        if not addresses:
            raise OSError(f"{host} has no address")
        pinned = parsed.copy_with(host=str(addresses[0]))
        extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
        return pinned, {"Host": parsed.netloc.decode("ascii")}, extensions


class TargetRefused(Exception):
    """What the delivery log says of a target that is not allowed, whatever listens there (or not)."""


class WebhookSender:
    """POSTs one delivery; never raises: the answer (or the error) is what the delivery log records."""

    def __init__(self, timeout_seconds: float, targets: WebhookTargets) -> None:
        self.timeout = timeout_seconds
        self.targets = targets
        # One TLS context for every client: a client (one a delivery) then costs about 0.1 ms of CPU, where each
        # building its own (reading the CA bundle) cost about 19.
        self.tls = httpx.create_ssl_context()

    async def post(self, client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        started = time.monotonic()
        try:
            pinned, host, extensions = await self.targets.pinned(url)
        except InvalidInput as exc:
            return Answer(None, TargetRefused(exc.detail), 0)
        except (OSError, TimeoutError, ValueError):
            return Answer(None, TargetRefused(f"the endpoint's name does not resolve: {httpx.URL(url).host}"), 0)
        try:
            response = await client.post(
                pinned, content=body, headers={**headers, **host}, timeout=self.timeout, extensions=extensions
            )
        except httpx.HTTPError as exc:
            return Answer(None, exc, int((time.monotonic() - started) * 1000))
        return Answer(response.status_code, None, int((time.monotonic() - started) * 1000))

    def client(self) -> httpx.AsyncClient:
        # Redirects are not followed: a moved endpoint must be registered again, not guessed (and a redirect
        # could point inside, past the check).
        # A client a delivery, not one for all: its connections are pooled by address, and two partners' names on
        # one address must not share a TLS connection checked for one of them.
        return httpx.AsyncClient(
            follow_redirects=False, headers={"User-Agent": "partnernet-webhooks/1"}, verify=self.tls
        )
