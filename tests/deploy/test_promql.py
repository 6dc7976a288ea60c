"""The evaluator of tests/deploy/promql.py against results worked out by hand from Prometheus's definitions."""

from __future__ import annotations

import math

import pytest

from tests.deploy.promql import Evaluator, Store


def store_of(*series: tuple[dict[str, str], list[tuple[float, float]]]) -> Evaluator:
    store = Store()
    for labels, samples in series:
        for time, value in samples:
            store.add(labels, time, value)
    return Evaluator(store)


def test_increase_extrapolates_to_the_window_like_prometheus() -> None:
    # Samples every 15 s from 0 to 3 in a 60 s window that ends 5 s after the last: Prometheus extrapolates
    # to the start (15 s before the first, < 1.1 × 15) but not below zero (the counter started at 0).
    evaluator = store_of(({"__name__": "c_total", "a": "x"}, [(1000, 0), (1015, 1), (1030, 2), (1045, 3)]))
    (value,) = evaluator.query("increase(c_total[60s])", at=1050).values()
    # sampled 45 s, to the start 10 s (from 990: 1000-990) but the zero point is at 1000 → 0 s; to the end 5 s.
    assert value == pytest.approx(3 * (45 + 0 + 5) / 45)
    (rate,) = evaluator.query("rate(c_total[60s])", at=1050).values()
    assert rate == pytest.approx(value / 60)


def test_a_counter_reset_counts_as_continuing() -> None:
    evaluator = store_of(({"__name__": "c_total"}, [(0, 5), (15, 7), (30, 1), (45, 2)]))
    # The window is left-open (Prometheus 3): (0, 45] holds 7, 1, 2. The reset adds the 7 before it: 2 - 7 + 7;
    # the first sample is 15 s after the window's start (< 1.1 × the 15 s average), so that much is added.
    (value,) = evaluator.query("increase(c_total[45s])", at=45).values()
    assert value == pytest.approx((2 - 7 + 7) * (30 + 15) / 30)


def test_a_first_sample_at_one_shows_no_increase_but_at_zero_it_does() -> None:
    """Why every series starts at 0 (shared/telemetry.py ZeroStartCounter)."""
    late = store_of(({"__name__": "d_total"}, [(15, 1), (30, 1)]))
    early = store_of(({"__name__": "d_total"}, [(0, 0), (15, 1), (30, 1)]))
    assert late.query("increase(d_total[10m]) > 0", at=30) == {}
    assert list(early.query("increase(d_total[10m]) > 0", at=30).values()) == [pytest.approx(1.0 * 30 / 30 * 1.0)]


def test_aggregation_comparison_and_set_operators() -> None:
    evaluator = store_of(
        ({"__name__": "up", "service": "a", "dependency": "database"}, [(0, 1), (15, 0)]),
        ({"__name__": "up", "service": "b", "dependency": "database"}, [(0, 1), (15, 1)]),
        ({"__name__": "lag", "service": "a"}, [(15, 7)]),
    )
    down = evaluator.query("min by (service, dependency) (up) == 0", at=20)
    assert down == {frozenset({("service", "a"), ("dependency", "database")}): 0.0}
    assert evaluator.query("max by (service) (up) == 0 and on (service) lag > 5", at=20) == {
        frozenset({("service", "a")}): 0.0
    }
    assert evaluator.query("max by (service) (up) == 0 unless on (service) lag > 5", at=20) == {}
    assert set(evaluator.query("max by (service) (up) > 0 or max by (service) (lag)", at=20)) == {
        frozenset({("service", "b")}),
        frozenset({("service", "a")}),
    }


def test_a_ratio_of_sums_and_regex_matchers() -> None:
    evaluator = store_of(
        ({"__name__": "r_count", "code": "200"}, [(0, 0), (30, 90)]),
        ({"__name__": "r_count", "code": "504"}, [(0, 0), (30, 10)]),
    )
    (ratio,) = evaluator.query('sum(rate(r_count{code=~"5.."}[1m])) / sum(rate(r_count[1m])) > 0.05', at=30).values()
    assert ratio == pytest.approx(0.1)


def test_the_lookback_forgets_samples_older_than_five_minutes() -> None:
    evaluator = store_of(({"__name__": "g"}, [(0, 3)]))
    assert evaluator.query("g", at=299) and evaluator.query("g", at=301) == {}


def test_absent_over_time_names_the_missing_series() -> None:
    evaluator = store_of(({"__name__": "up", "service": "a"}, [(0, 1)]))
    assert evaluator.query('absent_over_time(up{service="a"}[2m])', at=60) == {}
    assert evaluator.query('absent_over_time(up{service="b"}[2m])', at=60) == {frozenset({("service", "b")}): 1.0}


def test_histogram_quantile_interpolates_within_the_bucket() -> None:
    def bucket(le: str, count: float) -> tuple[dict[str, str], list[tuple[float, float]]]:
        return {"__name__": "h_bucket", "le": le}, [(0, 0), (60, count)]

    evaluator = store_of(bucket("100", 50), bucket("1000", 90), bucket("+Inf", 100))
    (p50,) = evaluator.query("histogram_quantile(0.5, sum by (le) (rate(h_bucket[2m])))", at=60).values()
    (p90,) = evaluator.query("histogram_quantile(0.9, sum by (le) (rate(h_bucket[2m])))", at=60).values()
    (p99,) = evaluator.query("histogram_quantile(0.99, sum by (le) (rate(h_bucket[2m])))", at=60).values()
    assert p50 == pytest.approx(100.0)  # rank 50 is the top of the first bucket
    assert p90 == pytest.approx(1000.0)
    assert p99 == pytest.approx(1000.0)  # in the +Inf bucket: the highest finite bound
    (p70,) = evaluator.query("histogram_quantile(0.7, sum by (le) (rate(h_bucket[2m])))", at=60).values()
    assert p70 == pytest.approx(100 + 900 * (70 - 50) / 40)
    assert math.isnan(next(iter(store_of(bucket("+Inf", 0)).query("histogram_quantile(0.5, h_bucket)", 60).values())))


def test_what_is_not_evaluated_says_so() -> None:
    with pytest.raises(NotImplementedError):
        store_of(({"__name__": "g"}, [(0, 1)])).query("quantile_over_time(0.5, g[1m])", at=0)
