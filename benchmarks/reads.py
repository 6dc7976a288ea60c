"""The read path: one referral read as the coordinator (no personal data) and as the library's staff (unsealed,
the read logged), closed loop and paced; the views people wait for; and `--only read`, these alone."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

import httpx

from benchmarks.driving import BenchTenant, Target, answered, create_tenant, http_spec, read_spec, run_loadgen, step
from benchmarks.idle import cpu_snapshot
from benchmarks.limits import bare_litestar
from benchmarks.loadgen import Spec
from benchmarks.pipeline import cpu_per_referral
from benchmarks.processes import memory_snapshot
from benchmarks.profiling import Profiler
from benchmarks.report import print_profiles, status_note

PACED_READ_RATE = 200.0  # reads a second in the open-loop phase of `--only read` (at most half the maximum)


async def read_benchmark(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """The bare endpoint and the two reads only, back to back: the figures of the request path without the
    minute the other phases take."""
    duration = args.duration
    results: dict[str, Any] = {"duration_per_phase_s": duration, "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    step("tenant …")
    tenant = await create_tenant(target)
    await asyncio.sleep(1.0)
    results["rss_at_rest_mb"] = memory_snapshot(target.processes)  # before any load, as the full run measures it
    step(f"bare Litestar JSON endpoint at {args.read_connections} connections …")
    results["bare_litestar"] = await bare_litestar(args.read_connections, duration)
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
    rss = r.get("rss_at_rest_mb") or {}
    print("resident memory at rest (MB): " + ", ".join(f"{name} {mb:.0f}" for name, mb in sorted(rss.items())))
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


def every_pid(target: Target, *names: str) -> dict[str, int]:
    """Each process of these components (both gateway processes, not only the first), named `gateway-2` …"""
    return {
        name if i == 0 else f"{name}-{i + 1}": pid
        for name in names
        for i, pid in enumerate(target.processes.get(name, []))
    }
