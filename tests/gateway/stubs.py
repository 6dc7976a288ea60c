"""A gateway on a NATS of its own, with stub services that answer like the real ones would.

For what the session platform cannot show: a service answering slowly or not at all, an operation another
engineer has not built yet (statistics, API keys), a service stopped halfway through a test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import msgspec
import nats
from litestar import Litestar
from nats.aio.subscription import Subscription
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.app import create_app
from gateway.server import server_config
from launcher.embedded import free_port
from shared.contracts.partners.api import operations as partner_ops
from shared.contracts.partners.api.organisations import ActorScope, ResolveActorScope
from shared.errors import PartnernetError
from shared.operations import Operation
from shared.rpc import RpcRequest, encode_error
from shared.settings import Settings
from shared.tenancy import Actor
from tests.fixtures.platform import TLS_CONTEXT, telemetry_for
from tests.serving import serving
from tests.waiting import PATIENCE_SECONDS

Q = TypeVar("Q")
A = TypeVar("A")


class StubServices:
    """Answers `rpc.<service>.<operation>` in the RPC wire format, from plain async functions."""

    def __init__(self, nc: nats.NATS) -> None:
        self.nc = nc
        self.subscriptions: dict[str, Subscription] = {}
        self.calls: list[tuple[str, Actor, Any]] = []

    async def answer(self, operation: Operation[Q, A], fn: Callable[[Actor, Q], Awaitable[A]]) -> None:
        """Answer a declared operation (shared/contracts/<service>/api/operations.py) with `fn`."""
        subject, service = operation.subject, operation.service

        async def respond(msg: Any) -> None:
            request = msgspec.json.decode(msg.data, type=RpcRequest)
            body = msgspec.json.decode(request.body, type=operation.request)
            self.calls.append((subject, request.actor, body))
            try:
                result = await fn(request.actor, body)
            except PartnernetError as exc:
                await msg.respond(encode_error(exc))
                return
            await msg.respond(b'{"result": ' + msgspec.json.encode(result) + b"}")

        if subject in self.subscriptions:
            await self.subscriptions.pop(subject).unsubscribe()
        self.subscriptions[subject] = await self.nc.subscribe(subject, queue=service, cb=respond)
        await self.nc.flush()

    async def stop(self, service: str) -> None:
        """The service goes away: nobody answers its operations any more."""
        for subject in [s for s in self.subscriptions if s.startswith(f"rpc.{service}.")]:
            await self.subscriptions.pop(subject).unsubscribe()
        await self.nc.flush()


@dataclass
class StubbedGateway:
    url: str
    settings: Settings
    stubs: StubServices
    app: Litestar  # reach its state, e.g. to give the API key cache a clock of the test's own

    def client(self, token: str | None = None, **headers: str) -> httpx.AsyncClient:
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=PATIENCE_SECONDS, verify=TLS_CONTEXT)


async def every_tenant_exists(actor: Actor, query: ResolveActorScope) -> ActorScope:
    """In a stub world every tenant a token names is registered (the gateway asks before it lets a token in)."""
    return ActorScope(municipality=query.municipality, library=query.library, partner=query.partner)


@asynccontextmanager
async def stubbed_gateway(settings: Settings) -> AsyncIterator[StubbedGateway]:
    nc = await nats.connect(settings.nats_url)
    app = create_app(settings, telemetry=telemetry_for("gateway", InMemorySpanExporter()))
    port = free_port()
    try:
        async with serving(server_config(app, settings, port=port)):
            stubs = StubServices(nc)
            await stubs.answer(partner_ops.RESOLVE_ACTOR_SCOPE, every_tenant_exists)
            yield StubbedGateway(f"http://127.0.0.1:{port}", settings, stubs, app)
    finally:
        await nc.close()
