"""`python -m benchmarks --cluster`: the price of the guarantee, measured in the same run as the single node.

The production shape of deploy/ (three NATS nodes, every stream with three replicas flushed to disk before each
acknowledgement, two processes of each service, two gateways; `partnernet up --cluster`) runs the same write
phases as the single node (one NATS, R1, the default flush): the pipeline at its maximum, then at half of it.
The ratios R3/R1 say what the three copies and `sync_interval: always` cost in rate and in POST → feed time.
The write load goes through both gateways, half the connections each.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks import raw
from benchmarks.driving import Target, create_tenant
from benchmarks.pipeline import PipelineResult, write_phase
from benchmarks.processes import component, find_processes
from launcher.embedded import free_port


@contextlib.contextmanager
def cluster_platform() -> Iterator[list[Target]]:
    """The cluster shape like `partnernet up --cluster`; a target per gateway (the same platform behind each)."""
    from launcher.platform import Platform
    from shared.tenancy import Actor, Role
    from shared.tokens import TokenIssuer

    with tempfile.TemporaryDirectory(prefix="partnernet-bench-cluster-") as tmp:
        started = time.monotonic()
        print("starting the cluster shape (3 NATS nodes R3 sync always, 2 of each service, 2 gateways) …", flush=True)
        environ = {**os.environ, "PARTNERNET_RATE_LIMIT": str(10**9)}
        port = free_port()
        with Platform(data_dir=Path(tmp), port=port, environ=environ, cluster=True, health_deadline=240) as platform:
            assert platform.nats_cluster is not None
            print(f"  healthy after {time.monotonic() - started:.1f}s at {platform.gateway_urls}", flush=True)
            settings = platform.settings
            processes = find_processes(Path(tmp))
            for name in {component(name) for name in platform.processes}:
                processes[name] = [p.pid for n, p in platform.processes.items() if component(n) == name]
            token = TokenIssuer(settings.jwt_secret).issue(Actor(subject="bench", role=Role.OPERATOR))
            yield [
                Target(
                    base_url=url,
                    operator_token=token,
                    # The benchmark's own watchers connect to one node; the platform's processes to all three.
                    nats_url=platform.nats_cluster.nodes[0].url,
                    database_dsn=settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1),
                    jwt_secret=settings.jwt_secret,
                    processes=processes,
                )
                for url in platform.gateway_urls
            ]


async def both_gateways(
    targets: list[Target], tenant: Any, *, connections: int, duration: float, rate: float | None
) -> dict[str, Any]:
    """One write phase through each gateway at once; their figures put together (rates add, p99 the worse)."""
    share = None if rate is None else rate / len(targets)
    results: list[PipelineResult] = await asyncio.gather(
        *(
            write_phase(target, tenant, connections=max(1, connections // len(targets)), duration=duration, rate=share)
            for target in targets
        )
    )
    return {
        "submitted_per_second": sum(r.submitted_per_second for r in results),
        "pipeline_per_second": sum(r.pipeline_per_second for r in results),
        "post_p99_ms": max(r.post_p99_ms for r in results),
        "feed_p50_ms": max(r.feed_p50_ms for r in results),
        "feed_p99_ms": max(r.feed_p99_ms for r in results),
        "referrals": sum(r.referrals for r in results),
        "delivered": sum(r.delivered for r in results),
        "per_gateway": [asdict(r) for r in results],
    }


def cluster_benchmark(args: Any) -> dict[str, Any]:
    with cluster_platform() as targets:
        return asyncio.run(_measure(targets, args))


async def _measure(targets: list[Target], args: Any) -> dict[str, Any]:
    print("  cluster: JetStream publish and consume with acks on a stream of 3 replicas …")
    assert targets[0].nats_url is not None
    publish, consume = await raw.jetstream_publish_and_consume(targets[0].nats_url, duration=args.duration, replicas=3)
    tenant = await create_tenant(targets[0])
    await asyncio.sleep(1.0)
    print(f"  cluster: write path at its maximum ({args.write_connections} connections over both gateways) …")
    maximum = await both_gateways(
        targets, tenant, connections=args.write_connections, duration=args.duration, rate=None
    )
    half = maximum["pipeline_per_second"] / 2
    print(f"  cluster: write path at half its maximum ({half:.0f}/s) …")
    at_half = await both_gateways(
        targets, tenant, connections=args.write_connections, duration=args.duration, rate=half
    )
    return {
        "jetstream_publish": asdict(publish),
        "jetstream_consume": asdict(consume),
        "write_max": maximum,
        "write_half": at_half,
    }


def cluster_rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    """R3 (cluster, sync always) against R1 (single node), measured in this run."""
    single, cluster = r, r["cluster"]
    rows = [("— the cluster shape (R3, sync_interval always) against the single node (R1) —", "", "")]
    for what in ("jetstream_publish", "jetstream_consume"):
        if what not in single:  # `--only pipeline` measures no single node's JetStream alone
            continue
        one, three = single[what]["count"] / single[what]["seconds"], cluster[what]["count"] / cluster[what]["seconds"]
        rows.append(
            (
                f"{what.replace('_', ' ')} rate R3 / R1",
                f"{three / max(one, 0.001):.2f}",
                f"{three:,.0f} /s against {one:,.0f} /s",
            )
        )
    for label, phase in (("max", "write_max"), ("half", "write_half")):
        one, three = single[phase], cluster[phase]
        rows += [
            (
                f"pipeline rate R3 / R1 ({label})",
                f"{three['pipeline_per_second'] / max(one['pipeline_per_second'], 0.001):.2f}",
                f"{three['pipeline_per_second']:,.0f} /s against {one['pipeline_per_second']:,.0f} /s",
            ),
            (
                f"POST → feed p99 R3 / R1 ({label})",
                f"{three['feed_p99_ms'] / max(one['feed_p99_ms'], 0.001):.2f}",
                f"{three['feed_p99_ms']:,.0f} ms against {one['feed_p99_ms']:,.0f} ms; "
                f"{three['delivered']}/{three['referrals']} in the feed",
            ),
            (
                f"POST p99 R3 / R1 ({label})",
                f"{three['post_p99_ms'] / max(one['post_p99_ms'], 0.001):.2f}",
                f"{three['post_p99_ms']:,.1f} ms against {one['post_p99_ms']:,.1f} ms",
            ),
        ]
    return rows
