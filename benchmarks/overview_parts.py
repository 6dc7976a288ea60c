"""Each part of the coordinator's overview timed on its own (issue 25): the services' operations the gateway calls
in parallel (gateway/overview.py `overview_parts`), called one at a time over NATS as the gateway calls them, so
the slowest part, which the whole overview waits for, shows by name."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import nats

from benchmarks.driving import BenchTenant, Target
from benchmarks.idle import cpu_snapshot
from benchmarks.loadgen import percentile
from gateway.overview import overview_parts
from shared.clock import local_today
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

CALLS = 40


async def time_overview_parts(target: Target, tenant: BenchTenant, calls: int = CALLS) -> dict[str, Any]:
    """p50 and p99 (ms) of each part, `calls` calls after a first, as the benchmark's coordinator."""
    if not target.nats_url:
        return {}
    actor = Actor(subject="bench-coordinator", role=Role.COORDINATOR, municipality=tenant.municipality)
    today = local_today()
    parts = overview_parts(tenant.municipality, None, today.replace(month=1, day=1), today.replace(month=12, day=31))
    connection = await nats.connect(target.nats_url)
    figures: dict[str, Any] = {}
    try:
        rpc = RpcClient(connection, timeout=10)
        for part in parts:
            await rpc.call(part.operation, actor, part.body)
            took = []
            for _ in range(calls):
                started = time.perf_counter()
                await rpc.call(part.operation, actor, part.body)
                took.append((time.perf_counter() - started) * 1000)
            took.sort()
            figures[part.operation.subject] = {"p50_ms": percentile(took, 0.5), "p99_ms": percentile(took, 0.99)}
    finally:
        await connection.close()
    return figures


async def at_rest(target: Target, seconds: float) -> dict[str, float]:
    """Each component's CPU, in % of a core, while nothing is asked of the platform for `seconds` (at the seeded
    volume: its periodic jobs and pollers; a component of several processes is their sum)."""
    before = cpu_snapshot(target.processes)
    await asyncio.sleep(seconds)
    after = cpu_snapshot(target.processes)
    return {name: round(100 * (after[name] - before.get(name, 0.0)) / seconds, 2) for name in after}
