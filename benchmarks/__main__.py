"""`python -m benchmarks`: measure partnernet and the limits beneath it in one run, and print every figure as a ratio.

Starts the platform the way `partnernet up` does (embedded NATS and PostgreSQL, each service and the gateway
in a process of its own), or drives one that runs already (`--url` with an operator `--token`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
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
from benchmarks.idle import cpu_seconds, cpu_snapshot, idle_platform
from benchmarks.loadgen import Spec
from benchmarks.pipeline import (
    BenchTenant,
    PipelineResult,
    Target,
    cpu_per_referral,
    create_tenant,
    http_spec,
    read_spec,
    run_loadgen,
)
from benchmarks.pipeline_report import (
    AIM_FEED_P99_MS,
    AIM_PIPELINE_SHARE,
    aims_line,
    pids,
    pipeline_only,
    pipeline_rows,
    print_rows,
    write_phases,
)
from benchmarks.processes import (
    COMPONENTS,
    MemorySampler,
    component,
    find_processes,
    memory_snapshot,
)
from benchmarks.profiling import Profiler, summarise
from benchmarks.volume import seed
from launcher.embedded import EmbeddedNats, EmbeddedPostgres, free_port

AIM_READ_SHARE = 0.10  # issue 16's step; the long-term aim is LONG_TERM_READ_SHARE
LONG_TERM_READ_SHARE = 0.25
AIM_READ_P99_MS = 25.0
AIM_RSS_MB = 150.0
AIM_STAFF_SHARE = 0.60
AIM_RPC_SHARE = 0.50
PACED_READ_RATE = 200.0  # reads a second in the open-loop phase of `--only read` (at most half the maximum)


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


@contextlib.contextmanager
def platform_target(args: argparse.Namespace) -> Iterator[Target]:
    if args.url:
        yield given_platform(args)
        return
    from launcher.platform import Platform
    from shared.tenancy import Actor, Role
    from shared.tokens import TokenIssuer

    with tempfile.TemporaryDirectory(prefix="partnernet-bench-") as tmp:
        started = time.monotonic()
        print("starting the platform (embedded NATS and PostgreSQL, four services, the gateway) …", flush=True)
        # The gateway's per-caller rate limit would cap the benchmark at a few requests a second: lift it.
        environ = {**os.environ, "PARTNERNET_RATE_LIMIT": str(10**9)}
        # Six processes importing and migrating on a 2-core machine that others load too can take longer than `up`'s
        # minute: the benchmark waits longer rather than measure nothing.
        with Platform(data_dir=Path(tmp), port=free_port(), environ=environ, health_deadline=240) as platform:
            print(f"  healthy after {time.monotonic() - started:.1f}s at {platform.base_url}", flush=True)
            settings = platform.settings
            processes = find_processes(Path(tmp))
            for name in {component(name) for name in platform.processes}:
                processes[name] = [p.pid for n, p in platform.processes.items() if component(n) == name]
            yield Target(
                base_url=platform.base_url,
                operator_token=TokenIssuer(settings.jwt_secret).issue(Actor(subject="bench", role=Role.OPERATOR)),
                nats_url=settings.nats_url,
                database_dsn=plain_dsn(settings.database_url),
                jwt_secret=settings.jwt_secret,
                processes=processes,
            )


def given_platform(args: argparse.Namespace) -> Target:
    if not args.token:
        raise SystemExit("--url needs --token (an operator token: `partnernet token --role operator`)")
    nats_url, database_url, secret = args.nats_url, args.database_url, None
    if args.data_dir:
        from launcher.cli import settings_for_data_dir

        settings = settings_for_data_dir(args.data_dir.resolve())
        nats_url = nats_url or settings.nats_url
        database_url = database_url or settings.database_url
        secret = settings.jwt_secret
    return Target(
        base_url=args.url.rstrip("/"),
        operator_token=args.token,
        nats_url=nats_url,
        database_dsn=plain_dsn(database_url) if database_url else None,
        jwt_secret=secret,
        processes=find_processes(args.data_dir.resolve() if args.data_dir else None),
    )


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


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


def step(message: str) -> None:
    print(f"  {message}", flush=True)


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
        step(f"seeding {args.volume:,} referrals and their rows in SQL, then ANALYZE …")
        results["volume"] = await seed(target.database_dsn, args.volume, library=tenant.library, log=step)
    step("the views people wait for (statistics, overview, lists, feed pages), one at a time and 20 at once …")
    results["views"] = await views(target, tenant, duration)
    results["rss_at_rest_mb"] = memory_snapshot(target.processes)

    step("load generator against a static responder (its own ceiling) …")
    with target_process("static", free_port()) as (url, _):
        results["generator_ceiling"] = await run_loadgen(
            http_spec(url, "/bare", connections=args.read_connections, duration=duration)
        )
    step(f"bare Litestar JSON endpoint at {args.read_connections} connections …")
    with target_process("bare", free_port()) as (url, pid):
        before = cpu_seconds(pid) or 0.0
        results["bare_litestar"] = await run_loadgen(
            http_spec(url, "/bare", connections=args.read_connections, duration=duration)
        )
        results["bare_litestar"]["cpu_ms"] = {
            "bare": 1000 * ((cpu_seconds(pid) or before) - before) / max(answered(results["bare_litestar"]), 1)
        }

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


async def read_benchmark(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """The bare endpoint and the two reads only, back to back: the figures of the request path without the
    minute the other phases take."""
    duration = args.duration
    results: dict[str, Any] = {"duration_per_phase_s": duration, "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    step("tenant …")
    tenant = await create_tenant(target)
    await asyncio.sleep(1.0)
    step(f"bare Litestar JSON endpoint at {args.read_connections} connections …")
    with target_process("bare", free_port()) as (url, pid):
        before = cpu_seconds(pid) or 0.0
        results["bare_litestar"] = await run_loadgen(
            http_spec(url, "/bare", connections=args.read_connections, duration=duration)
        )
        results["bare_litestar"]["cpu_ms"] = {
            "bare": 1000 * ((cpu_seconds(pid) or before) - before) / max(answered(results["bare_litestar"]), 1)
        }
    profiler = Profiler(args.profile) if args.profile else None
    for phase, token in (("read_path", tenant.read_token), ("read_path_staff", tenant.staff_token)):
        step(f"{phase} at {args.read_connections} connections …")
        if profiler:
            profiler.start(phase, every_pid(target, "gateway", "referrals"), duration)
        spec = read_spec(target, tenant, connections=args.read_connections, duration=duration + 1, token=token)
        results[phase] = await measured(target, spec)
        if profiler:
            profiler.finish_now()
    # At 50 connections in a closed loop the latency is 50 / the rate (Little's law): p99 under 25 ms needs more
    # than 2,000 answers a second. Paced at a rate the platform keeps up with, the same 50 connections show the
    # latency a request meets when nothing queues: the pauses (collections, other work in a process) stand out.
    paced = round(min(PACED_READ_RATE, results["read_path"]["rps"] / 2), 1)
    step(f"read path paced at {paced:.0f}/s over {args.read_connections} connections (open loop) …")
    spec = read_spec(target, tenant, connections=args.read_connections, duration=duration + 1, token=tenant.read_token)
    spec.rate = paced
    results["read_path_paced"] = await measured(target, spec)
    if profiler:
        results["profiles"] = [str(p) for p in profiler.finish()]
    for phase in ("read_path", "read_path_staff", "read_path_paced", "bare_litestar"):
        results[phase].pop("captured", None)
    return results


def print_read_report(r: dict[str, Any], args: argparse.Namespace) -> None:
    bare = r["bare_litestar"]
    print()
    print(f"load average before: {r['load_before'][0]:.2f}")
    phases = (("bare", bare), ("read", r["read_path"]), ("staff read", r["read_path_staff"]))
    paced = r["read_path_paced"]
    for name, phase in (*phases, (f"read {paced['rps']:.0f}/s", paced)):
        cpu = phase.get("cpu_ms") or {}
        by_process = ", ".join(f"{k} {v:.2f}" for k, v in cpu.items() if v >= 0.005)
        print(
            f"{name:<11} {phase['rps']:>8,.0f} req/s  p50 {phase['p50_ms']:6.1f} ms  p99 {phase['p99_ms']:6.1f} ms  "
            f"max {phase['max_ms']:6.1f} ms  {phase['rps'] / max(bare['rps'], 1):6.1%} of bare  "
            f"CPU/request {sum(cpu.values()):.2f} ms ({by_process})"
            f"  generator CPU {phase['generator_cpu']:.0%}  {status_note(phase['statuses'])}"
        )
    if args.json:
        args.json.write_text(json.dumps(r, indent=2, default=str))
    print_profiles(r)


async def views(target: Target, tenant: BenchTenant, duration: float) -> dict[str, Any]:
    """Each view a user waits for, sequentially and at 20 concurrent requests: the statistics (staff's, the
    coordinator's), the overview, the referral list (first page and 20 pages deep) and the partner's feed
    (first page, deep in its history)."""
    staff, coordinator, partner = tenant.staff_token, tenant.read_token, tenant.submit_token
    async with httpx.AsyncClient(base_url=target.base_url, timeout=30) as api:
        cursor, headers = None, {"Authorization": f"Bearer {staff}"}
        for _ in range(20):
            params = {"limit": 50} | ({"cursor": cursor} if cursor else {})
            cursor = (await api.get("/api/v1/referrals", params=params, headers=headers)).json().get("next_cursor")
            if not cursor:
                break
        newest = await api.get(
            f"/api/v1/partners/{tenant.partner_id}/feed",
            params={"limit": 1},
            headers={"Authorization": f"Bearer {partner}"},
        )
    first = newest.json()["items"][0]["position"] if newest.status_code == 200 and newest.json()["items"] else 0
    paths = {
        "statistics (staff)": ("/api/v1/referrals/statistics", staff),
        "statistics (coordinator)": ("/api/v1/referrals/statistics", coordinator),
        "overview (coordinator)": ("/api/v1/overview", coordinator),
        "list, first page (staff)": ("/api/v1/referrals?limit=50", staff),
        "list, 20 pages deep (staff)": (f"/api/v1/referrals?limit=50&cursor={cursor}" if cursor else None, staff),
        "feed, first page (partner)": (f"/api/v1/partners/{tenant.partner_id}/feed?limit=50", partner),
        "feed, deep in history (partner)": (
            f"/api/v1/partners/{tenant.partner_id}/feed?limit=50&after={first + 20_000}",
            partner,
        ),
    }
    figures: dict[str, Any] = {}
    for name, (path, token) in paths.items():
        if path is None:
            continue
        for connections in (1, 20):
            spec = http_spec(
                target.base_url,
                path,
                headers={"Authorization": f"Bearer {token}"},
                connections=connections,
                duration=duration,
            )
            result = await run_loadgen(spec)
            result.pop("captured", None)
            figures[f"{name} ×{connections}"] = result
    return figures


async def measured(target: Target, spec: Spec) -> dict[str, Any]:
    """A load phase, with the CPU every component spent per answered request: what one request costs where,
    which (unlike a rate) holds on a machine that others load too."""
    before = cpu_snapshot(target.processes)
    result = await run_loadgen(spec)
    result["cpu_ms"] = cpu_per_referral(before, cpu_snapshot(target.processes), answered(result))
    return result


def answered(result: dict[str, Any]) -> int:
    return sum(int(count) for count in result["statuses"].values())


def every_pid(target: Target, *names: str) -> dict[str, int]:
    """Each process of these components (both gateway processes, not only the first), named `gateway-2` …"""
    return {
        name if i == 0 else f"{name}-{i + 1}": pid
        for name in names
        for i, pid in enumerate(target.processes.get(name, []))
    }


def print_report(r: dict[str, Any], args: argparse.Namespace) -> None:
    if args.only == "pipeline":
        print()
        print_rows(pipeline_rows(r))
        print()
        print(aims_line(r))
        print_profiles(r)
        return
    bare, read, ceiling = r["bare_litestar"], r["read_path"], r["generator_ceiling"]
    rr, pg = r["nats_request_reply"], r["postgres_inserts"]
    wmax, whalf = r["write_max"], r["write_half"]
    rr_rate = rr["count"] / rr["seconds"]
    pg_rate = pg["count"] / pg["seconds"]
    rows: list[tuple[str, str, str]] = []

    def row(what: str, figure: str, note: str = "") -> None:
        rows.append((what, figure, note))

    def rate(d: dict[str, Any]) -> float:
        return float(d["count"] / d["seconds"])

    row("machine", f"{r['cpus']} CPUs", f"load average before: {r['load_before'][0]:.2f}")
    row("— limits beneath —", "", "")
    row(
        "load generator vs static responder",
        f"{ceiling['rps']:,.0f} req/s",
        f"{ceiling['rps'] / max(bare['rps'], 1):.1f}× bare Litestar; generator CPU {ceiling['generator_cpu']:.0%}",
    )
    row(
        f"bare Litestar JSON, {args.read_connections} conns",
        f"{bare['rps']:,.0f} req/s",
        f"p50 {bare['p50_ms']:.1f} ms, p99 {bare['p99_ms']:.1f} ms; generator CPU {bare['generator_cpu']:.0%}",
    )
    row(
        "NATS request/reply, 50 in flight",
        f"{rr_rate:,.0f} /s",
        f"p50 {rr['p50_ms']:.2f} ms, p99 {rr['p99_ms']:.2f} ms",
    )
    prpc = r["platform_rpc"]
    row(
        "shared.rpc (client and server), empty use case",
        f"{rate(prpc):,.0f} /s",
        f"{rate(prpc) / max(rr_rate, 1):.0%} of raw request/reply; "
        f"p50 {prpc['p50_ms']:.2f} ms, p99 {prpc['p99_ms']:.2f} ms",
    )
    if rr.get("caller_cpu_ms") is not None and prpc.get("caller_cpu_ms") is not None:
        raw_cpu = rr["caller_cpu_ms"] + rr["responder_cpu_ms"]
        rpc_cpu = prpc["caller_cpu_ms"] + prpc["responder_cpu_ms"]
        row(
            "  CPU per call (ms): raw / shared.rpc",
            f"{raw_cpu:.3f} / {rpc_cpu:.3f}",
            f"caller {rr['caller_cpu_ms']:.3f} / {prpc['caller_cpu_ms']:.3f}, "
            f"responder {rr['responder_cpu_ms']:.3f} / {prpc['responder_cpu_ms']:.3f}; "
            f"shared.rpc costs {rpc_cpu / max(raw_cpu, 1e-9):.1f}× raw (nats-server not counted)",
        )
    row("JetStream publish with ack, 256 in flight", f"{rate(r['jetstream_publish']):,.0f} /s", "file storage")
    row("JetStream pull consume with ack", f"{rate(r['jetstream_consume']):,.0f} /s", "batches of 256")
    row(
        "PostgreSQL 1-row insert tx, 16 conns",
        f"{pg_rate:,.0f} /s",
        f"p50 {pg['p50_ms']:.2f} ms, p99 {pg['p99_ms']:.2f} ms",
    )
    row("— read path: GET /api/v1/referrals/{id} —", "", "")
    row(
        f"rate at {args.read_connections} conns",
        f"{read['rps']:,.0f} req/s",
        f"{status_note(read['statuses'])}; generator CPU {read['generator_cpu']:.0%}",
    )
    row("latency", f"p50 {read['p50_ms']:.1f} ms", f"p99 {read['p99_ms']:.1f} ms (aim < {AIM_READ_P99_MS:.0f})")
    row(
        "share of bare Litestar",
        f"{read['rps'] / max(bare['rps'], 1):.1%}",
        f"aim ≥ {AIM_READ_SHARE:.0%} (long term {LONG_TERM_READ_SHARE:.0%})",
    )
    row("share of raw NATS request/reply", f"{read['rps'] / max(rr_rate, 1):.1%}", "")
    row("share of shared.rpc, empty use case", f"{read['rps'] / max(rate(r['platform_rpc']), 1):.0%}", "")
    staff = r["read_path_staff"]
    row(
        "as staff (unseal + access log)",
        f"{staff['rps']:,.0f} req/s",
        f"p50 {staff['p50_ms']:.1f} ms, p99 {staff['p99_ms']:.1f} ms; {status_note(staff['statuses'])}",
    )
    row(
        "  staff share of the coordinator's rate",
        f"{staff['rps'] / max(read['rps'], 1):.0%}",
        f"aim ≥ {AIM_STAFF_SHARE:.0%}",
    )
    row("— CPU per request (ms), by process —", "", "")
    bare_cpu = bare.get("cpu_ms", {}).get("bare")
    if bare_cpu is not None:
        row("  bare Litestar endpoint", f"{bare_cpu:.2f}", "the one process")
    for label, phase in (("read as coordinator", read), ("read as staff", staff)):
        cpu = phase.get("cpu_ms") or {}
        if not cpu:
            continue
        total = sum(cpu.values())
        parts = ", ".join(f"{name} {ms:.2f}" for name, ms in sorted(cpu.items(), key=lambda kv: -kv[1]) if ms >= 0.005)
        note = parts
        if bare_cpu:
            note += f"; {bare_cpu / total:.0%} of the bare endpoint's CPU per request"
        row(f"  {label}", f"{total:.2f}", note)
    row("— write path: POST /api/v1/referrals → partner's feed —", "", "")
    row(
        f"submitted, {args.write_connections} conns",
        f"{wmax['submitted_per_second']:,.0f} /s",
        f"POST p50 {wmax['post_p50_ms']:.1f} ms, p99 {wmax['post_p99_ms']:.1f} ms; {status_note(wmax['statuses'])}",
    )
    row(
        "pipeline (POST → feed entry) max",
        f"{wmax['pipeline_per_second']:,.0f} /s",
        f"{wmax['delivered']}/{wmax['referrals']} in the feed; POST→feed p50 {wmax['feed_p50_ms']:.0f} ms, "
        f"p99 {wmax['feed_p99_ms']:.0f} ms",
    )
    skipped = wmax["skipped_by_position_cursor"] + whalf["skipped_by_position_cursor"]
    row(
        "feed entries a position cursor skips",
        f"{skipped}",
        "committed after a higher position was read: a partner paging with ?after= never sees them",
    )
    row(
        "pipeline share of PostgreSQL inserts",
        f"{wmax['pipeline_per_second'] / max(pg_rate, 1):.1%}",
        f"aim ≥ {AIM_PIPELINE_SHARE:.0%}",
    )
    row(
        f"at half the maximum ({whalf['submitted_per_second']:,.0f} /s)",
        f"POST→feed p99 {whalf['feed_p99_ms']:.0f} ms",
        f"p50 {whalf['feed_p50_ms']:.0f} ms; aim p99 < {AIM_FEED_P99_MS:.0f} ms; "
        f"{whalf['delivered']}/{whalf['referrals']} in the feed",
    )
    if whalf["stream_p50_ms"] is not None:
        row(
            "  of which POST → on JetStream",
            f"p50 {whalf['stream_p50_ms']:.0f} ms",
            f"p99 {whalf['stream_p99_ms']:.0f} ms",
        )
    for label, phase in (("max", wmax), ("half", whalf)):
        outbox = phase["outbox"]
        if outbox:
            drained = outbox["drained_after_s"]
            row(
                f"outbox commit → JetStream ack ({label})",
                f"p50 {outbox['commit_to_ack_p50_ms']:.0f} ms",
                f"p99 {outbox['commit_to_ack_p99_ms']:.0f} ms; peak backlog {outbox['peak_backlog']}"
                + (f", drained {drained:.1f}s after the load" if drained is not None else ""),
            )
    rows.extend(pipeline_rows(r))
    volume = r.get("volume", {}).get("referrals_added", 0)
    row(f"— views at {volume:,} seeded referrals (p50 / p99; ×1 sequential, ×20 concurrent) —", "", "")
    if volume:
        row("  seeding (SQL, then ANALYZE)", f"{r['volume']['seconds']:.0f} s", str(r["volume"]["rows"]))
    for name, result in r.get("views", {}).items():
        row(
            f"  {name}",
            f"{result['p50_ms']:.1f} / {result['p99_ms']:.1f} ms",
            f"{result['rps']:,.0f} req/s; {status_note(result['statuses'])}",
        )
    row("— resident memory (MB): at rest / peak under load —", "", "")
    for name in COMPONENTS:
        rest, peak = r["rss_at_rest_mb"].get(name), r["rss_under_load_mb"].get(name)
        if rest is None and peak is None:
            continue
        aim = "" if rest is None or rest <= AIM_RSS_MB else f"above the {AIM_RSS_MB:.0f} MB aim at rest"
        row(f"  {name}", f"{fmt(rest)} / {fmt(peak)}", aim)
    if "cluster" in r:
        from benchmarks.cluster import cluster_rows

        rows.extend(cluster_rows(r))
    print()
    print_rows(rows)
    print()
    print("aims:", aims_summary(r))
    print(aims_line(r))
    print_profiles(r)


def print_profiles(r: dict[str, Any]) -> None:
    for path in r.get("profiles", []):
        print()
        print("\n".join(summarise(Path(path))))


def status_note(statuses: dict[str, int]) -> str:
    return ", ".join(f"{k}×{v}" for k, v in sorted(statuses.items()))


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def aims_summary(r: dict[str, Any]) -> str:
    bare, read = r["bare_litestar"], r["read_path"]
    rr = r["nats_request_reply"]["count"] / r["nats_request_reply"]["seconds"]
    prpc = r["platform_rpc"]["count"] / r["platform_rpc"]["seconds"]
    pg_rate = r["postgres_inserts"]["count"] / r["postgres_inserts"]["seconds"]
    checks = {
        "read ≥10% of bare": read["rps"] >= AIM_READ_SHARE * bare["rps"],
        "read ≥25% of bare (long term)": read["rps"] >= LONG_TERM_READ_SHARE * bare["rps"],
        "RPC ≥50% of raw request/reply": prpc >= AIM_RPC_SHARE * rr,
        "read p99 <25 ms": read["p99_ms"] < AIM_READ_P99_MS,
        "staff read ≥60% of coordinator's": r["read_path_staff"]["rps"] >= AIM_STAFF_SHARE * read["rps"],
        "pipeline ≥20% of PG": r["write_max"]["pipeline_per_second"] >= AIM_PIPELINE_SHARE * pg_rate,
        "POST→feed p99 <100 ms at half": r["write_half"]["feed_p99_ms"] < AIM_FEED_P99_MS,
        "RSS <150 MB at rest": all(v <= AIM_RSS_MB for v in r["rss_at_rest_mb"].values()),
    }
    return "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks.items())


if __name__ == "__main__":
    main()


__all__ = ["PipelineResult", "Spec", "main"]
