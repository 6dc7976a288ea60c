"""`python -m benchmarks`: measure partnernet and the limits beneath it in one run, and print every figure as a ratio.

Starts the platform the way `partnernet up` does (embedded NATS and PostgreSQL, each service and the gateway
in a process of its own), or drives one that runs already (`--url` with an operator `--token`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

from benchmarks.driving import Target, create_tenant, read_spec, step
from benchmarks.idle import idle_platform
from benchmarks.limits import bare_litestar, generator_ceiling, messaging_and_database
from benchmarks.loadgen import Spec
from benchmarks.overview_parts import at_rest, time_overview_parts
from benchmarks.pipeline import PipelineResult
from benchmarks.pipeline_report import pids, pipeline_only, write_phases
from benchmarks.platforms import platform_target
from benchmarks.processes import MemorySampler, memory_snapshot
from benchmarks.profiling import Profiler
from benchmarks.reads import measured, print_read_report, read_benchmark, views
from benchmarks.report import print_report
from benchmarks.volume import seed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per phase (default 5)")
    parser.add_argument("--url", help="a running platform's gateway (default: start one like `partnernet up`)")
    parser.add_argument("--token", help="an operator token for --url (`partnernet token --role operator`)")
    parser.add_argument("--data-dir", type=Path, help="with --url: the data directory of that `partnernet up`")
    parser.add_argument("--nats-url", help="with --url: its NATS (default: from --data-dir, else none)")
    parser.add_argument("--database-url", help="with --url: its PostgreSQL (default: from --data-dir, else none)")
    parser.add_argument("--read-connections", type=int, default=50)
    parser.add_argument("--write-connections", type=int, default=16)
    parser.add_argument(
        "--volume",
        type=int,
        default=0,
        help="seed this many referrals (and their history, feed entries, outbox and inbox rows) in SQL before "
        "measuring, as years of use would leave them (benchmarks/volume.py); the views' figures then come at "
        "that volume",
    )
    parser.add_argument(
        "--only",
        choices=("all", "pipeline", "read"),
        default="all",
        help="pipeline: only PostgreSQL's insert rate and the write path at its maximum and at half (issue 17's "
        "figures, about a minute); read: only the bare endpoint and the read path as coordinator and staff "
        "(issue 16's, ~30 s; with --profile every gateway process and the referrals service are sampled); the "
        "idle platform then only with --idle-seconds",
    )
    parser.add_argument("--profile", type=Path, help="write py-spy profiles of the read and write phases here")
    parser.add_argument("--json", type=Path, help="also write every figure as JSON")
    parser.add_argument(
        "--idle-seconds",
        type=float,
        help="watch a platform of its own at rest this long, exporting to a local collector (0: skip; "
        "default 60, with --only pipeline 0)",
    )
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="also measure deploy/'s production shape (three NATS nodes, R3, sync_interval always, two of each "
        "service and gateway) in this run: its write path at the maximum and at half, as ratios to the single "
        "node's (R1); adds the cluster's start and two write phases (about two minutes)",
    )
    args = parser.parse_args(argv)
    if args.idle_seconds is None:
        args.idle_seconds = 60.0 if args.only == "all" else 0.0
    with platform_target(args) as target:
        if args.only == "read":
            results = asyncio.run(read_benchmark(target, args))
            print_read_report(results, args)
            return
        results = asyncio.run(benchmark(target, args))
    if args.cluster and not args.url:
        from benchmarks.cluster import cluster_benchmark

        results["cluster"] = cluster_benchmark(args)
    if args.idle_seconds and not args.url:
        step(f"a platform at rest for {args.idle_seconds:.0f}s (its traces and CPU) …")
        results["idle"] = idle_platform(args.idle_seconds)
    print_report(results, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


async def benchmark(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    duration = args.duration
    results: dict[str, Any] = {"duration_per_phase_s": duration, "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    step("tenant …")
    tenant = await create_tenant(target)
    await asyncio.sleep(1.0)
    if args.only == "pipeline":
        return results | await pipeline_only(target, tenant, args)
    if args.volume:
        if not target.database_dsn:
            raise SystemExit("--volume needs the platform's database (--data-dir or --database-url with --url)")
        # The same views before the seeding, so that the report sets each figure at volume beside its figure at
        # the tenant's own few referrals, measured on the same machine in the same minutes.
        step("the views people wait for, before the seeding …")
        results["views_before_volume"] = await views(target, tenant, duration)
        step(f"seeding {args.volume:,} referrals and their rows in SQL, then VACUUM and ANALYZE …")
        results["volume"] = await seed(target.database_dsn, args.volume, library=tenant.library, log=step)
    step("the views people wait for (statistics, overview, lists, feed pages), one at a time and 20 at once …")
    results["views"] = await views(target, tenant, duration)
    step("each part of the overview, called in its service one at a time …")
    results["overview_parts"] = await time_overview_parts(target, tenant)
    if args.volume and not args.url:
        step("the platform at rest at this volume for 30 s (CPU per component) …")
        results["rest_at_volume"] = await at_rest(target, 30.0)
    results["rss_at_rest_mb"] = memory_snapshot(target.processes)

    step("load generator against a static responder (its own ceiling) …")
    results["generator_ceiling"] = await generator_ceiling(args.read_connections, duration)
    step(f"bare Litestar JSON endpoint at {args.read_connections} connections …")
    results["bare_litestar"] = await bare_litestar(args.read_connections, duration)

    results |= await messaging_and_database(target, duration)

    profiler = Profiler(args.profile) if args.profile else None
    sampler = MemorySampler(target.processes)
    sampler.start()
    step(f"read path: GET one referral at {args.read_connections} connections (coordinator: no personal data) …")
    if profiler:
        profiler.start("read", pids(target, "gateway", "referrals"), duration)
    results["read_path"] = await measured(
        target,
        read_spec(target, tenant, connections=args.read_connections, duration=duration + 1, token=tenant.read_token),
    )
    if profiler:
        profiler.finish_now()
    step("read path as the library's staff (the participant unsealed, the read written to the access log) …")
    results["read_path_staff"] = await measured(
        target,
        read_spec(target, tenant, connections=args.read_connections, duration=duration + 1, token=tenant.staff_token),
    )
    results |= await write_phases(target, tenant, args, profiler)
    await sampler.stop()
    results["rss_under_load_mb"] = sampler.peak
    await asyncio.sleep(1.0)
    results["rss_after_load_mb"] = memory_snapshot(target.processes)
    if profiler:
        results["profiles"] = [str(p) for p in profiler.finish()]
    for phase in ("read_path", "read_path_staff", "generator_ceiling", "bare_litestar"):
        results[phase].pop("captured", None)
    return results


if __name__ == "__main__":
    main()


__all__ = ["PipelineResult", "Spec", "main"]
