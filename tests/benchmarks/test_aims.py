"""The benchmark's verdicts (benchmarks/pipeline_report.py `pipeline_aims`, benchmarks/report.py `aims_summary`): a
latency aim is met only where the phase measured what the aim names, not by the 0 ms percentiles of nothing."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

import pytest

from benchmarks.pipeline import NatsFeedStats, OutboxStats, PipelineResult
from benchmarks.pipeline_report import pipeline_aims
from benchmarks.report import print_report


def phase(*, referrals: int, delivered: int, latency_ms: float, outbox_rows: int, nats_seen: int) -> dict[str, Any]:
    return asdict(
        PipelineResult(
            submitted_per_second=referrals / 5,
            post_p50_ms=latency_ms / 2,
            post_p99_ms=latency_ms,
            statuses={"201": referrals},
            referrals=referrals,
            delivered=delivered,
            pipeline_per_second=delivered / 5,
            feed_p50_ms=latency_ms / 2,
            feed_p99_ms=latency_ms,
            stream_p50_ms=None,
            stream_p99_ms=None,
            outbox=OutboxStats(
                rows=outbox_rows,
                insert_to_ack_p50_ms=latency_ms / 4,
                insert_to_ack_p99_ms=latency_ms / 2,
                commit_to_ack_p50_ms=latency_ms / 4 if outbox_rows else None,
                commit_to_ack_p99_ms=latency_ms / 2 if outbox_rows else None,
                committed_rows=outbox_rows,
                peak_backlog=0,
                drained_after_s=0.0,
            ),
            generator_cpu=0.05,
            schedule_lag_p99_ms=0.0,
            skipped_by_position_cursor=0,
            nats_feed=NatsFeedStats(seen=nats_seen, p50_ms=latency_ms / 2, p99_ms=latency_ms),
        )
    )


def results(maximum: dict[str, Any], half: dict[str, Any]) -> dict[str, Any]:
    return {"postgres_inserts": {"count": 50_000, "seconds": 5.0}, "write_max": maximum, "write_half": half}


def verdicts(r: dict[str, Any]) -> dict[str, bool]:
    return dict(pipeline_aims(r))


def test_fast_phases_that_measured_every_referral_meet_the_latency_aims() -> None:
    whole = phase(referrals=1000, delivered=1000, latency_ms=10.0, outbox_rows=1000, nats_seen=1000)
    got = verdicts(results(whole, whole))
    assert got["POST p99 <50 ms"] and got["POST→feed p99 <100 ms at max"]
    assert got["POST→NATS feed p99 <50 ms at half"] and got["outbox→ack p99 <20 ms at half"]


def test_a_phase_that_measured_nothing_meets_no_latency_aim() -> None:
    nothing = phase(referrals=0, delivered=0, latency_ms=0.0, outbox_rows=0, nats_seen=0)
    got = verdicts(results(nothing, nothing))
    assert not any(
        got[aim]
        for aim in (
            "POST p99 <50 ms",
            "POST→feed p99 <100 ms at max",
            "POST→NATS feed p99 <50 ms at half",
            "outbox→ack p99 <20 ms at half",
        )
    ), got


def test_referrals_that_never_arrived_fail_the_aims_their_percentiles_would_hide() -> None:
    lost = phase(referrals=1000, delivered=990, latency_ms=10.0, outbox_rows=1000, nats_seen=990)
    got = verdicts(results(lost, lost))
    assert got["POST p99 <50 ms"]  # every POST was answered in time
    assert not got["POST→feed p99 <100 ms at max"]
    assert not got["POST→NATS feed p99 <50 ms at half"]


def test_a_pipeline_only_run_with_the_cluster_prints_the_cluster_s_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    """`--only pipeline --cluster` measured the cluster shape and printed nothing of it (its rows were in the full
    report only, and they asked for the single node's JetStream figures, which a pipeline-only run has not)."""
    single = phase(referrals=1000, delivered=1000, latency_ms=10.0, outbox_rows=1000, nats_seen=1000)
    cluster = phase(referrals=500, delivered=500, latency_ms=40.0, outbox_rows=500, nats_seen=500)
    r = results(single, single) | {"cluster": {"write_max": cluster, "write_half": cluster}}
    print_report(r, argparse.Namespace(only="pipeline", profile=None))
    printed = capsys.readouterr().out
    assert "pipeline rate R3 / R1 (max)" in printed and "0.50" in printed
    assert "POST p99 R3 / R1 (half)" in printed and "4.00" in printed
