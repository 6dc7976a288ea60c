"""The event pipeline's phases, figures and aims (issue 17), and `--only pipeline`: those phases alone.

The pipeline-only run measures what the aims are stated against (PostgreSQL's single-row insert rate on the
platform's own server, then the write path at its maximum and at half of it) and nothing else, so a change
to the pipeline can be measured in about a minute instead of the whole benchmark's ten.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from benchmarks import raw
from benchmarks.driving import BenchTenant, Target
from benchmarks.pipeline import write_phase
from benchmarks.profiling import Profiler

AIM_PIPELINE_SHARE = 0.20  # of PostgreSQL's insert rate: the long-term aim
AIM_PIPELINE_SHARE_NOW = 0.025  # issue 17's step towards it
AIM_POST_P99_MS = 50.0
AIM_FEED_P99_MS = 100.0
AIM_NATS_FEED_P99_MS = 50.0
AIM_OUTBOX_P99_MS = 20.0
AIM_IDLE_ROOTS_PER_MINUTE = 1.0
AIM_IDLE_CPU_SHARE = 0.01
# The processes the write path runs through; the outbox relay runs in the referrals service, the partners'
# consumer and feed relay in the partners service.
PROFILED = ("gateway", "referrals", "partners")


async def write_phases(
    target: Target, tenant: BenchTenant, args: argparse.Namespace, profiler: Profiler | None
) -> dict[str, Any]:
    """The write path at its maximum (closed loop), then at half the pipeline's maximum rate (open loop)."""
    print(f"  write path at its maximum ({args.write_connections} connections) …", flush=True)
    if profiler:
        profiler.start("write", pids(target, *PROFILED), args.duration)
    maximum = await write_phase(target, tenant, connections=args.write_connections, duration=args.duration)
    if profiler:
        profiler.finish_now()
    half = maximum.pipeline_per_second / 2
    print(f"  write path at half the pipeline's maximum ({half:.0f}/s) …", flush=True)
    at_half = await write_phase(target, tenant, connections=args.write_connections, duration=args.duration, rate=half)
    return {"write_max": asdict(maximum), "write_half": asdict(at_half)}


async def pipeline_only(target: Target, tenant: BenchTenant, args: argparse.Namespace) -> dict[str, Any]:
    if not target.database_dsn:
        raise SystemExit("--only pipeline needs the platform's database (--data-dir or --database-url with --url)")
    print("  PostgreSQL single-row inserts at 16 connections …", flush=True)
    results: dict[str, Any] = {
        "postgres_inserts": asdict(await raw.postgres_inserts(target.database_dsn, duration=args.duration))
    }
    profiler = Profiler(args.profile) if args.profile else None
    results |= await write_phases(target, tenant, args, profiler)
    if profiler:
        results["profiles"] = [str(p) for p in profiler.finish()]
    return results


def pids(target: Target, *names: str) -> dict[str, int]:
    return {name: target.processes[name][0] for name in names if target.processes.get(name)}


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def pipeline_rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The pipeline's figures, each aim's row saying whether it was met."""
    wmax, whalf = r["write_max"], r["write_half"]
    aims = dict(pipeline_aims(r))
    pg_rate = r["postgres_inserts"]["count"] / r["postgres_inserts"]["seconds"]
    outbox = whalf.get("outbox")
    rows = [
        ("— the event pipeline (issue 17) —", "", ""),
        ("PostgreSQL 1-row insert tx, 16 conns", f"{pg_rate:,.0f} /s", "what the pipeline's share is of"),
        (
            f"submitted at the maximum, {wmax['statuses']}",
            f"{wmax['submitted_per_second']:,.0f} /s",
            f"POST p50 {wmax['post_p50_ms']:.1f} ms; load generator CPU {wmax['generator_cpu']:.0%}",
        ),
        (
            "pipeline max (POST → feed entry)",
            f"{wmax['pipeline_per_second']:,.0f} /s",
            f"{wmax['delivered']}/{wmax['referrals']} in the feed",
        ),
        (
            "pipeline max / PostgreSQL inserts",
            f"{wmax['pipeline_per_second'] / max(pg_rate, 1):.2%}",
            f"aim ≥ {AIM_PIPELINE_SHARE_NOW:.1%}: {verdict(aims['pipeline ≥2.5% of PG'])}; "
            f"long-term {AIM_PIPELINE_SHARE:.0%}: {verdict(aims['pipeline ≥20% of PG (long term)'])}",
        ),
        (
            "POST p99 at the maximum",
            f"{wmax['post_p99_ms']:.1f} ms",
            f"aim < {AIM_POST_P99_MS:.0f} ms: {verdict(aims['POST p99 <50 ms'])}",
        ),
        (
            "POST → feed entry p99 at the maximum",
            f"{wmax['feed_p99_ms']:.0f} ms",
            f"p50 {wmax['feed_p50_ms']:.0f} ms; aim < {AIM_FEED_P99_MS:.0f} ms: "
            f"{verdict(aims['POST→feed p99 <100 ms at max'])}",
        ),
        (
            f"POST → feed entry p99 at half ({whalf['submitted_per_second']:,.0f} /s)",
            f"{whalf['feed_p99_ms']:.0f} ms",
            f"p50 {whalf['feed_p50_ms']:.0f} ms; {whalf['delivered']}/{whalf['referrals']} in the feed",
        ),
    ]
    if whalf.get("stream_p50_ms") is not None:
        rows.append(
            (
                "  of which POST → on JetStream (half)",
                f"p99 {whalf['stream_p99_ms']:.0f} ms",
                f"p50 {whalf['stream_p50_ms']:.0f} ms",
            )
        )
    for label, phase in (("max", wmax), ("half", whalf)):
        if nats := phase.get("nats_feed"):
            note = f"p50 {nats['p50_ms']:.0f} ms; {nats['seen']}/{phase['referrals']} seen"
            if label == "half":
                note += f"; aim < {AIM_NATS_FEED_P99_MS:.0f} ms: {verdict(aims['POST→NATS feed p99 <50 ms at half'])}"
            rows.append((f"POST → on NATS feeds.<partner> ({label})", f"p99 {nats['p99_ms']:.0f} ms", note))
    for label, phase in (("max", wmax), ("half", whalf)):
        if box := phase.get("outbox"):
            drained = box["drained_after_s"]
            aim = f"; aim < {AIM_OUTBOX_P99_MS:.0f} ms: {verdict(aims['outbox→ack p99 <20 ms at half'])}"
            if box["commit_to_ack_p99_ms"] is not None:
                # From the commit (PostgreSQL's commit timestamp of the row's transaction: kernel migration 008).
                note = f"p50 {box['commit_to_ack_p50_ms']:.1f} ms; peak backlog {box['peak_backlog']}"
                note += f", drained {drained:.1f}s after the load" if drained is not None else ""
                note += f"; {box['committed_rows']}/{box['rows']} rows with a commit time"
                note += aim if label == "half" else ""
                rows.append(
                    (f"outbox commit → JetStream ack p99 ({label})", f"{box['commit_to_ack_p99_ms']:.1f} ms", note)
                )
            else:
                rows.append(
                    (
                        f"outbox commit → JetStream ack p99 ({label})",
                        "—",
                        "the server keeps no commit times (track_commit_timestamp off): the aim is judged on insert "
                        "→ ack below, which is more",
                    )
                )
            # From the row's insert (clock_timestamp(), kernel migration 007): the rest of the submit's statement,
            # its commit's triggers and WAL flush too. The POST → on JetStream line above starts after the commit.
            note = f"p50 {box['insert_to_ack_p50_ms']:.1f} ms"
            if box["commit_to_ack_p99_ms"] is None:
                note += f"; peak backlog {box['peak_backlog']}"
                note += f", drained {drained:.1f}s after the load" if drained is not None else ""
                note += aim if label == "half" else ""
            rows.append((f"outbox insert → JetStream ack p99 ({label})", f"{box['insert_to_ack_p99_ms']:.1f} ms", note))
    if outbox is None:
        rows.append(("outbox commit → JetStream ack p99 (half)", "—", "not measured (no database): MISSED"))
    skipped = wmax["skipped_by_position_cursor"] + whalf["skipped_by_position_cursor"]
    rows.append(("feed entries a position cursor skips", f"{skipped}", "committed after a higher position was read"))
    cpu = wmax.get("cpu_ms_per_referral") or {}
    if cpu:
        rows.append(
            (
                "CPU per referral at the maximum",
                f"{sum(cpu.values()):.1f} ms",
                ", ".join(f"{name} {ms:.2f}" for name, ms in sorted(cpu.items(), key=lambda kv: -kv[1]) if ms >= 0.005),
            )
        )
    if idle := r.get("idle"):
        roots, shares = idle["root_traces_per_minute"], idle["cpu_share"]
        rows.append(
            (
                f"at rest {idle['seconds']:.0f}s: root traces a minute",
                f"max {max(roots.values(), default=0):.1f}",
                f"aim ≤ {AIM_IDLE_ROOTS_PER_MINUTE:.0f} per process: {verdict(aims['idle ≤1 root trace/min'])}; "
                f"{idle['spans']} spans in all"
                + (f"; {', '.join(idle['root_span_names'])}" if idle["root_span_names"] else ""),
            )
        )
        rows.append(
            (
                "at rest: CPU per process",
                f"max {max(shares.values(), default=0):.2%}",
                ", ".join(f"{name} {share:.2%}" for name, share in sorted(shares.items()))
                + f"; aim < {AIM_IDLE_CPU_SHARE:.0%}: {verdict(aims['idle CPU <1% per process'])}",
            )
        )
    return rows


def pipeline_aims(r: dict[str, Any]) -> list[tuple[str, bool]]:
    wmax, whalf = r["write_max"], r["write_half"]
    pg_rate = r["postgres_inserts"]["count"] / r["postgres_inserts"]["seconds"]
    # A latency met only where it was measured over the whole phase: a phase that submitted nothing, or whose
    # referrals did not all arrive, has percentiles of nothing (0 ms) or of those that came, and meets no aim.
    submitted, everywhere = wmax["referrals"] > 0, wmax["referrals"] > 0 and wmax["delivered"] == wmax["referrals"]
    nats_feed, outbox = whalf.get("nats_feed"), whalf.get("outbox")
    checks = [
        ("pipeline ≥2.5% of PG", wmax["pipeline_per_second"] >= AIM_PIPELINE_SHARE_NOW * pg_rate),
        ("POST p99 <50 ms", submitted and wmax["post_p99_ms"] < AIM_POST_P99_MS),
        ("POST→feed p99 <100 ms at max", everywhere and wmax["feed_p99_ms"] < AIM_FEED_P99_MS),
        (
            "POST→NATS feed p99 <50 ms at half",
            bool(nats_feed)
            and whalf["referrals"] > 0
            and nats_feed["seen"] == whalf["referrals"]
            and nats_feed["p99_ms"] < AIM_NATS_FEED_P99_MS,
        ),
        (
            "outbox→ack p99 <20 ms at half",
            bool(outbox) and outbox["rows"] > 0 and outbox_p99_for_aim(outbox) < AIM_OUTBOX_P99_MS,
        ),
        ("pipeline ≥20% of PG (long term)", wmax["pipeline_per_second"] >= AIM_PIPELINE_SHARE * pg_rate),
    ]
    if idle := r.get("idle"):
        checks.append(
            (
                "idle ≤1 root trace/min",
                max(idle["root_traces_per_minute"].values(), default=0) <= AIM_IDLE_ROOTS_PER_MINUTE,
            )
        )
        checks.append(("idle CPU <1% per process", max(idle["cpu_share"].values(), default=0) < AIM_IDLE_CPU_SHARE))
    return checks


def outbox_p99_for_aim(box: dict[str, Any]) -> float:
    """Commit → ack, as the aim says; where the server keeps no commit times, insert → ack (more: it includes the
    rest of the writer's statement and its commit)."""
    commit: float | None = box["commit_to_ack_p99_ms"]
    return commit if commit is not None else box["insert_to_ack_p99_ms"]


def aims_line(r: dict[str, Any]) -> str:
    return "pipeline aims (issue 17): " + "; ".join(f"{name}: {verdict(ok)}" for name, ok in pipeline_aims(r))


def print_rows(rows: list[tuple[str, str, str]]) -> None:
    width = [max(len(x[i]) for x in rows) for i in range(3)]
    for what, figure, note in rows:
        print(f"{what:<{width[0]}}  {figure:>{width[1]}}  {note}".rstrip())
