"""A service replica answers several requests of one operation at once (up to PARTNERNET_RPC_CONCURRENCY)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import nats
from nats.aio.client import Client as Nats

from launcher.embedded import EmbeddedNats
from shared.errors import Forbidden, ServiceTimeout, ServiceUnavailable
from shared.messaging import OUTBOUND_BUFFER_BYTES, connect_nats
from shared.operations import Operations
from shared.rpc import RpcClient, RpcReply, RpcRequest
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.telemetry import setup_telemetry
from shared.tenancy import Actor, Role
from tests.servers import paused
from tests.waiting import PATIENCE_SECONDS

# How long a call waits for the other to come in beside it. Only the replica with room for one call spends it all:
# the time the second call had to arrive, while it was queued behind the first. Both are sent at once, yet the
# second is read from NATS only when this process's event loop gets to it. A full collection of a large heap
# stopped a loaded service's loop for up to 1 s (shared/heap.py), and a test worker holds the whole in-process
# platform's heap: 0.5 s could part two calls that would meet.
NAP_SECONDS = 2.0


class Nap(msgspec.Struct, frozen=True, kw_only=True):
    pass


@contextlib.asynccontextmanager
async def answering(runtime: ServiceRuntime, nats_url: str) -> AsyncIterator[nats.NATS]:
    """The runtime's operations answered on NATS (only NATS: this replica has no schema, relay or consumers) until
    the block ends; yields a caller's own connection."""
    await runtime.broker.connect()
    await runtime.rpc.start(runtime.broker.connection)
    caller = await nats.connect(nats_url)
    try:
        yield caller
    finally:
        await caller.close()
        await runtime.rpc.stop()
        await runtime.broker.stop()
        await runtime.engine.dispose()


async def two_naps_at_once(nats_url: str, tmp_path: Path, concurrency: int) -> int:
    """How many of two calls sent at once were in one replica's handler at the same time: each waits (up to
    NAP_SECONDS) for the other to join it, so with room for two they meet, and with room for one they cannot."""
    name = f"naps{concurrency}"
    settings = Settings(nats_url=nats_url, rpc_concurrency=concurrency)  # the database is never reached
    telemetry = setup_telemetry(name, otlp_endpoint=None)
    runtime = ServiceRuntime.create(name, settings, tmp_path, telemetry=telemetry)

    in_handler, most = 0, 0
    met = asyncio.Event()

    async def nap(actor: Actor, _: Nap) -> Nap:
        nonlocal in_handler, most
        in_handler += 1
        most = max(most, in_handler)
        if in_handler == 2:
            met.set()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(met.wait(), NAP_SECONDS)
        finally:
            in_handler -= 1
        return Nap()

    nap_operation = Operations(name).declare("nap", Nap, Nap)
    runtime.bind(nap_operation, nap)
    actor = Actor(subject="test", role=Role.OPERATOR)
    try:
        async with answering(runtime, nats_url) as caller:
            rpc = RpcClient(caller, timeout=PATIENCE_SECONDS)
            await asyncio.gather(*(rpc.call(nap_operation, actor, Nap()) for _ in range(2)))
            return most
    finally:
        telemetry.shutdown()


async def test_two_slow_requests_to_one_service_are_handled_at_the_same_time(nats_url: str, tmp_path: Path) -> None:
    assert Settings().rpc_concurrency > 1
    assert await two_naps_at_once(nats_url, tmp_path, Settings().rpc_concurrency) == 2


async def test_with_a_concurrency_of_one_they_wait_for_each_other(nats_url: str, tmp_path: Path) -> None:
    """What every operation did before `max_workers`: the second request waited for the first."""
    assert await two_naps_at_once(nats_url, tmp_path, 1) == 1


class Numbered(msgspec.Struct, frozen=True, kw_only=True):
    number: int


async def test_requests_beyond_the_concurrency_wait_and_are_all_answered_in_the_order_they_came(
    nats_url: str, tmp_path: Path
) -> None:
    """Two at a time: the other four wait in the replica, and each starts as one before it finishes."""
    settings = Settings(nats_url=nats_url, rpc_concurrency=2)
    telemetry = setup_telemetry("queued", otlp_endpoint=None)
    runtime = ServiceRuntime.create("queued", settings, tmp_path, telemetry=telemetry)
    started: list[int] = []
    in_handler, most = 0, 0

    async def work(actor: Actor, request: Numbered) -> Numbered:
        nonlocal in_handler, most
        started.append(request.number)
        in_handler += 1
        most = max(most, in_handler)
        try:
            await asyncio.sleep(0.05)
        finally:
            in_handler -= 1
        return request

    work_operation = Operations("queued").declare("work", Numbered, Numbered)
    runtime.bind(work_operation, work)
    actor = Actor(subject="test", role=Role.OPERATOR)
    try:
        async with answering(runtime, nats_url) as caller:
            rpc = RpcClient(caller, timeout=PATIENCE_SECONDS)
            # One connection, one write: the six come to the replica in this order.
            answers = await asyncio.gather(*(rpc.call(work_operation, actor, Numbered(number=n)) for n in range(6)))
    finally:
        telemetry.shutdown()
    assert [answer.number for answer in answers] == list(range(6))
    assert started == list(range(6))
    assert most == 2


def test_the_concurrency_is_a_setting(tmp_path: Path) -> None:
    environ = {"PARTNERNET_RPC_CONCURRENCY": "4", "PARTNERNET_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(environ).rpc_concurrency == 4


async def test_a_request_whose_caller_stopped_waiting_is_not_carried_out(nats_url: str, tmp_path: Path) -> None:
    """Queued past its deadline in a busy replica: answering it would only add to the load."""
    settings = Settings(nats_url=nats_url)
    telemetry = setup_telemetry("late", otlp_endpoint=None)
    runtime = ServiceRuntime.create("late", settings, tmp_path, telemetry=telemetry)
    carried_out: list[int] = []

    async def work(actor: Actor, _: Nap) -> Nap:
        carried_out.append(1)
        return Nap()

    work_operation = Operations("late").declare("work", Nap, Nap)
    runtime.bind(work_operation, work)
    actor = Actor(subject="test", role=Role.OPERATOR)
    try:
        async with answering(runtime, nats_url) as caller:
            late = RpcRequest(actor=actor, body=msgspec.Raw(b"{}"), deadline=time.time() - 5)
            reply = msgspec.json.decode(
                (await caller.request("rpc.late.work", msgspec.json.encode(late), timeout=PATIENCE_SECONDS)).data,
                type=RpcReply,
            )
            in_time = await RpcClient(caller, timeout=PATIENCE_SECONDS).call(work_operation, actor, Nap())
    finally:
        telemetry.shutdown()
    assert reply.error is not None and reply.error.code == "service-timeout"
    assert in_time == Nap()
    assert carried_out == [1], "only the request that was still awaited ran"


class Lookup(msgspec.Struct, frozen=True, kw_only=True):
    library: str


async def test_a_call_is_one_trace_from_caller_to_service_with_the_actor_and_tenant_on_the_service_span(
    nats_url: str, tmp_path: Path
) -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spans = InMemorySpanExporter()
    settings = Settings(nats_url=nats_url)
    service_telemetry = setup_telemetry("traced", otlp_endpoint=None, span_processors=[SimpleSpanProcessor(spans)])
    caller_telemetry = setup_telemetry("caller", otlp_endpoint=None, span_processors=[SimpleSpanProcessor(spans)])
    runtime = ServiceRuntime.create("traced", settings, tmp_path, telemetry=service_telemetry)

    async def look(actor: Actor, query: Lookup) -> Lookup:
        return query

    look_operation = Operations("traced").declare("look", Lookup, Lookup)
    runtime.bind(look_operation, look)
    actor = Actor(subject="staff-1", role=Role.STAFF, municipality="gem-t", library="bieb-t")
    async with answering(runtime, nats_url) as caller:
        rpc = RpcClient(caller, timeout=PATIENCE_SECONDS, tracer=caller_telemetry.tracer("partnernet.rpc"))
        with caller_telemetry.tracer("test").start_as_current_span("GET /look") as request_span:
            assert await rpc.call(look_operation, actor, Lookup(library="bieb-t")) == Lookup(library="bieb-t")
    trace_id = request_span.get_span_context().trace_id
    by_name = {span.name: span for span in spans.get_finished_spans() if span.context.trace_id == trace_id}
    client, server = by_name["rpc.traced.look request"], by_name["rpc.traced.look process"]
    assert client.parent is not None and client.parent.span_id == request_span.get_span_context().span_id
    assert server.parent is not None and server.parent.span_id == client.context.span_id, "across NATS, one trace"
    attributes = dict(server.attributes or {})
    assert (attributes["enduser.id"], attributes["enduser.role"]) == ("staff-1", "staff")
    assert (attributes["partnernet.library"], attributes["partnernet.municipality"]) == ("bieb-t", "gem-t")


async def test_a_declared_operation_refuses_a_role_it_does_not_name_before_the_use_case(
    nats_url: str, tmp_path: Path
) -> None:
    declared = Operations("roles")
    staff_only = declared.declare("look", Lookup, Lookup, roles=(Role.STAFF,))
    runtime = ServiceRuntime.create("roles", Settings(nats_url=nats_url), tmp_path)
    ran: list[Actor] = []

    async def look(actor: Actor, query: Lookup) -> Lookup:
        ran.append(actor)
        return query

    runtime.bind(staff_only, look)
    runtime.require_bound(declared)
    partner = Actor(subject="p", role=Role.PARTNER, partner="x")
    async with answering(runtime, nats_url) as caller:
        staff = Actor(subject="s", role=Role.STAFF, library="bieb-t")
        answered = await RpcClient(caller, timeout=PATIENCE_SECONDS).call(staff_only, staff, Lookup(library="bieb-t"))
        assert answered.library == "bieb-t"
        refused_at_gateway = None
        try:
            await RpcClient(caller, timeout=PATIENCE_SECONDS).call(staff_only, partner, Lookup(library="bieb-t"))
        except Forbidden as exc:
            refused_at_gateway = exc
        # A caller that skips the gateway's check (a request written by hand) is refused by the service itself.
        by_hand = RpcRequest(actor=partner, body=msgspec.Raw(msgspec.json.encode(Lookup(library="bieb-t"))))
        answer = await caller.request(staff_only.subject, msgspec.json.encode(by_hand), timeout=5)
        refused_by_service = msgspec.json.decode(answer.data, type=RpcReply).error
    assert refused_at_gateway is not None
    assert refused_by_service is not None and refused_by_service.code == Forbidden.code
    assert [actor.role for actor in ran] == [Role.STAFF], "the partner's calls never reached the use case"


def test_a_declared_operation_the_service_does_not_bind_stops_it_at_start(tmp_path: Path) -> None:
    import pytest

    declared = Operations("forgetful")
    declared.declare("look", Lookup, Lookup)
    runtime = ServiceRuntime.create("forgetful", Settings(), tmp_path)
    with pytest.raises(RuntimeError, match="look"):
        runtime.require_bound(declared)


class Padded(msgspec.Struct, frozen=True, kw_only=True):
    text: str


async def test_every_call_through_a_broker_that_stopped_reading_is_answered_by_its_deadline(tmp_path: Path) -> None:
    """A broker that hangs (SIGSTOP: its connections stay open, it reads nothing) under calls enough to fill the
    connection's buffer five times: each call ends by its deadline, a 504 naming the broker while what is sent still
    fits the buffer, then a 503 naming it at once, unsent (nats-py's publish past the buffer waited for the broker
    with no deadline: 1,396 of 1,500 calls with a 1 s deadline were still waiting after 6 s). Once the broker reads
    again, the same connection carries a call to it (answered by the broker itself: nobody serves the operation)."""
    deadline = 1.0
    actor = Actor(subject="test", role=Role.OPERATOR)
    operation = Operations("stuck").declare("call", Padded, Nap)
    body = Padded(text="x" * 20_000)
    calls = 5 * OUTBOUND_BUFFER_BYTES // len(body.text)  # the sockets hold some: the buffer fills behind them
    with EmbeddedNats(tmp_path / "nats") as server:
        caller = Nats()
        await connect_nats(caller, server.url, name="test-caller")
        rpc = RpcClient(caller, timeout=deadline)

        async def one() -> tuple[str, str, float]:
            started = time.monotonic()
            try:
                await rpc.call(operation, actor, body)
            except (ServiceTimeout, ServiceUnavailable) as exc:
                return type(exc).__name__, str(exc.extra.get("service")), time.monotonic() - started
            return "answered", "", time.monotonic() - started

        try:
            with paused(server):
                outcomes = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(calls))), PATIENCE_SECONDS)
            after = await asyncio.wait_for(one(), PATIENCE_SECONDS)
        finally:
            await caller.close()
    kinds = Counter((kind, service) for kind, service, _ in outcomes)
    assert set(kinds) == {("ServiceTimeout", "nats"), ("ServiceUnavailable", "nats")}, kinds
    slowest = max(took for *_, took in outcomes)
    assert slowest < deadline + 2.0, f"a call took {slowest:.1f} s against its {deadline} s deadline: {kinds}"
    assert after[:2] == ("ServiceUnavailable", "stuck"), after
