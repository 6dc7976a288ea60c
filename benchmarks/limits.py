"""The limits beneath the platform, each measured on its own: the load generator's ceiling, a bare Litestar
endpoint, NATS request/reply, the platform's RPC layer, JetStream and PostgreSQL inserts (benchmarks/raw.py)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from benchmarks import raw
from benchmarks.driving import Target, answered, http_spec, run_loadgen, step
from benchmarks.idle import cpu_seconds
from benchmarks.platforms import plain_dsn
from launcher.embedded import EmbeddedNats, EmbeddedPostgres, free_port


@contextlib.contextmanager
def raw_servers(target: Target) -> Iterator[tuple[str, str]]:
    """The platform's own NATS and PostgreSQL where known, else embedded ones of the same build on this machine."""
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="partnernet-raw-")))
        nats_url = target.nats_url
        if not nats_url:
            nats_url = stack.enter_context(EmbeddedNats(tmp / "nats")).url
        dsn = target.database_dsn
        if not dsn:
            dsn = plain_dsn(stack.enter_context(EmbeddedPostgres(tmp / "postgres")).url)
        yield nats_url, dsn


@contextlib.contextmanager
def target_process(kind: str, port: int) -> Iterator[tuple[str, int]]:
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.targets", kind, str(port)])
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base_url}/bare", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the {kind} target did not start") from None
                time.sleep(0.1)
        yield base_url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


async def generator_ceiling(connections: int, duration: float) -> dict[str, Any]:
    """The load generator against a static responder: its own ceiling."""
    with target_process("static", free_port()) as (url, _):
        return await run_loadgen(http_spec(url, "/bare", connections=connections, duration=duration))


async def bare_litestar(connections: int, duration: float) -> dict[str, Any]:
    """A bare Litestar JSON endpoint in a process of its own, with its CPU per answered request."""
    with target_process("bare", free_port()) as (url, pid):
        before = cpu_seconds(pid) or 0.0
        result = await run_loadgen(http_spec(url, "/bare", connections=connections, duration=duration))
        result["cpu_ms"] = {"bare": 1000 * ((cpu_seconds(pid) or before) - before) / max(answered(result), 1)}
    return result


async def messaging_and_database(target: Target, duration: float) -> dict[str, Any]:
    """NATS request/reply, the platform's RPC layer with an empty use case, JetStream, PostgreSQL inserts."""
    results: dict[str, Any] = {}
    with raw_servers(target) as (nats_url, dsn):
        step("NATS request/reply …")
        results["nats_request_reply"] = asdict(await raw.nats_request_reply(nats_url, duration=duration))
        step("the platform's RPC layer with an empty use case …")
        results["platform_rpc"] = asdict(await raw.platform_rpc(nats_url, duration=duration))
        step("JetStream publish and consume with acks …")
        publish, consume = await raw.jetstream_publish_and_consume(nats_url, duration=duration)
        results["jetstream_publish"], results["jetstream_consume"] = asdict(publish), asdict(consume)
        step("PostgreSQL single-row inserts at 16 connections …")
        results["postgres_inserts"] = asdict(await raw.postgres_inserts(dsn, duration=duration))
    return results
