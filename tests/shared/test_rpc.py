"""A service replica answers several requests of one operation at once (up to PARTNERNET_RPC_CONCURRENCY)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import msgspec
import nats

from shared.rpc import RpcClient, RpcReply, RpcRequest
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.telemetry import setup_telemetry
from shared.tenancy import Actor, Role

NAP_SECONDS = 0.5


class Nap(msgspec.Struct, frozen=True, kw_only=True):
    pass


async def two_naps_at_once(nats_url: str, tmp_path: Path, concurrency: int) -> float:
    """Seconds two parallel calls of an operation that sleeps half a second take, on one replica."""
    name = f"naps{concurrency}"
    settings = Settings(nats_url=nats_url, rpc_concurrency=concurrency)  # the database is never reached
    telemetry = setup_telemetry(name, otlp_endpoint=None)
    runtime = ServiceRuntime.create(name, settings, tmp_path, telemetry=telemetry)

    async def nap(actor: Actor, _: Nap) -> Nap:
        await asyncio.sleep(NAP_SECONDS)
        return Nap()

    runtime.answer("nap", Nap, nap)
    actor = Actor(subject="test", role=Role.OPERATOR)
    await runtime.broker.connect()  # only NATS and the operations: this replica has no schema, relay or consumers
    await runtime.rpc.start(runtime.broker.connection)
    caller = await nats.connect(nats_url)
    rpc = RpcClient(caller, timeout=5)
    try:
        started = time.perf_counter()
        await asyncio.gather(*(rpc.call(name, "nap", actor, Nap(), Nap) for _ in range(2)))
        return time.perf_counter() - started
    finally:
        await caller.close()
        await runtime.rpc.stop()
        await runtime.broker.stop()
        await runtime.engine.dispose()
        telemetry.shutdown()


async def test_two_slow_requests_to_one_service_are_handled_at_the_same_time(nats_url: str, tmp_path: Path) -> None:
    assert Settings().rpc_concurrency > 1
    assert await two_naps_at_once(nats_url, tmp_path, Settings().rpc_concurrency) < 0.9


async def test_with_a_concurrency_of_one_they_wait_for_each_other(nats_url: str, tmp_path: Path) -> None:
    """What every operation did before `max_workers`: the second request waited for the first."""
    assert await two_naps_at_once(nats_url, tmp_path, 1) >= 2 * NAP_SECONDS * 0.95


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

    runtime.answer("work", Nap, work)
    actor = Actor(subject="test", role=Role.OPERATOR)
    await runtime.broker.connect()
    await runtime.rpc.start(runtime.broker.connection)
    caller = await nats.connect(nats_url)
    try:
        late = RpcRequest(actor=actor, body=msgspec.Raw(b"{}"), deadline=time.time() - 5)
        reply = msgspec.json.decode(
            (await caller.request("rpc.late.work", msgspec.json.encode(late), timeout=5)).data, type=RpcReply
        )
        in_time = await RpcClient(caller, timeout=5).call("late", "work", actor, Nap(), Nap)
    finally:
        await caller.close()
        await runtime.rpc.stop()
        await runtime.broker.stop()
        await runtime.engine.dispose()
        telemetry.shutdown()
    assert reply.error is not None and reply.error.code == "service-timeout"
    assert in_time == Nap()
    assert carried_out == [1], "only the request that was still awaited ran"
