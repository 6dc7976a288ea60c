"""The full run's report: every figure as a ratio to the limit beneath it, and whether each aim is met."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from benchmarks.pipeline_report import AIM_FEED_P99_MS, AIM_PIPELINE_SHARE, aims_line, pipeline_rows, print_rows
from benchmarks.processes import COMPONENTS
from benchmarks.profiling import summarise

AIM_READ_SHARE = 0.10  # issue 16's step; the long-term aim is LONG_TERM_READ_SHARE
LONG_TERM_READ_SHARE = 0.25
AIM_READ_P99_MS = 25.0
AIM_RSS_MB = 150.0
AIM_STAFF_SHARE = 0.60
AIM_RPC_SHARE = 0.50


def cluster_rows_of(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The cluster shape's rows, where the run measured it (`--cluster`, with `--only pipeline` too)."""
    if "cluster" not in r:
        return []
    from benchmarks.cluster import cluster_rows

    return cluster_rows(r)


def print_report(r: dict[str, Any], args: argparse.Namespace) -> None:
    if args.only == "pipeline":
        print()
        print_rows(pipeline_rows(r) + cluster_rows_of(r))
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
            if outbox["commit_to_ack_p99_ms"] is not None:
                row(
                    f"outbox commit → JetStream ack ({label})",
                    f"p50 {outbox['commit_to_ack_p50_ms']:.0f} ms",
                    f"p99 {outbox['commit_to_ack_p99_ms']:.0f} ms",
                )
            row(
                f"outbox insert → JetStream ack ({label})",
                f"p50 {outbox['insert_to_ack_p50_ms']:.0f} ms",
                f"p99 {outbox['insert_to_ack_p99_ms']:.0f} ms; peak backlog {outbox['peak_backlog']}"
                + (f", drained {drained:.1f}s after the load" if drained is not None else ""),
            )
    rows.extend(pipeline_rows(r))
    volume = r.get("volume", {}).get("referrals_added", 0)
    row(f"— views at {volume:,} seeded referrals (p50 / p99; ×1 sequential, ×20 concurrent) —", "", "")
    if volume:
        row("  seeding (SQL, then VACUUM and ANALYZE)", f"{r['volume']['seconds']:.0f} s", str(r["volume"]["rows"]))
    before = r.get("views_before_volume", {})
    for name, result in r.get("views", {}).items():
        earlier = before.get(name)
        row(
            f"  {name}",
            f"{result['p50_ms']:.1f} / {result['p99_ms']:.1f} ms",
            f"{result['rps']:,.0f} req/s; {status_note(result['statuses'])}"
            + (
                f"; before the seeding {earlier['p50_ms']:.1f} / {earlier['p99_ms']:.1f} ms, "
                f"p99 ×{result['p99_ms'] / earlier['p99_ms']:.1f}"
                if earlier and earlier["p99_ms"]
                else ""
            ),
        )
    for subject, part in r.get("overview_parts", {}).items():
        row(f"  overview part {subject} ×1", f"{part['p50_ms']:.1f} / {part['p99_ms']:.1f} ms", "in its service")
    if "rest_at_volume" in r:
        rest = ", ".join(f"{name} {share:.2f}%" for name, share in r["rest_at_volume"].items())
        row("  at rest for 30 s, CPU of a core", "", rest)
    row("— resident memory (MB): at rest / peak under load —", "", "")
    for name in COMPONENTS:
        rest, peak = r["rss_at_rest_mb"].get(name), r["rss_under_load_mb"].get(name)
        if rest is None and peak is None:
            continue
        aim = "" if rest is None or rest <= AIM_RSS_MB else f"above the {AIM_RSS_MB:.0f} MB aim at rest"
        row(f"  {name}", f"{fmt(rest)} / {fmt(peak)}", aim)
    rows.extend(cluster_rows_of(r))
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
    bare, read, half = r["bare_litestar"], r["read_path"], r["write_half"]
    rr = r["nats_request_reply"]["count"] / r["nats_request_reply"]["seconds"]
    prpc = r["platform_rpc"]["count"] / r["platform_rpc"]["seconds"]
    pg_rate = r["postgres_inserts"]["count"] / r["postgres_inserts"]["seconds"]
    checks = {
        "read ≥10% of bare": read["rps"] >= AIM_READ_SHARE * bare["rps"],
        "read ≥25% of bare (long term)": read["rps"] >= LONG_TERM_READ_SHARE * bare["rps"],
        "RPC ≥50% of raw request/reply": prpc >= AIM_RPC_SHARE * rr,
        "read p99 <25 ms": read["completed"] > 0 and read["p99_ms"] < AIM_READ_P99_MS,
        "staff read ≥60% of coordinator's": r["read_path_staff"]["rps"] >= AIM_STAFF_SHARE * read["rps"],
        "pipeline ≥20% of PG": r["write_max"]["pipeline_per_second"] >= AIM_PIPELINE_SHARE * pg_rate,
        "POST→feed p99 <100 ms at half": half["referrals"] > 0
        and half["delivered"] == half["referrals"]
        and half["feed_p99_ms"] < AIM_FEED_P99_MS,
        "RSS <150 MB at rest": all(v <= AIM_RSS_MB for v in r["rss_at_rest_mb"].values()),
    }
    return "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks.items())
