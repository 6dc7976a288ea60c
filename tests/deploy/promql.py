"""A PromQL evaluator for the expressions of our dashboards and alert rules, over samples the platform exported.

No maintained PromQL engine exists on PyPI (Nov 2026: promql-parser parses, nothing evaluates), so this
evaluates the parsed tree (promql_parser) the way Prometheus does, for the parts of the language our rules
use: selectors with label matchers and the 5-minute lookback; `rate`, `increase` and `delta` with
Prometheus's extrapolation and counter resets (promql/functions.go `extrapolatedRate`); `min_over_time`,
`max_over_time`, `absent_over_time`; `histogram_quantile` (promql/quantile.go `bucketQuantile`);
`sum`/`min`/`max`/`count` by or without labels; arithmetic and comparisons between vectors and scalars
(filtering, or `bool`); `and`, `or`, `unless` with `on`/`ignoring`. Anything else raises, so a rule that
uses more cannot pass unnoticed. tests/deploy/test_promql.py checks it against results worked out by hand
from Prometheus's own definitions.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import promql_parser as pp

LOOKBACK_SECONDS = 300.0  # Prometheus's default lookback delta
Labels = frozenset[tuple[str, str]]
Vector = dict[Labels, float]


@dataclass
class Series:
    labels: dict[str, str]  # __name__ included
    samples: list[tuple[float, float]] = field(default_factory=list)  # (unix seconds, value), in time order


@dataclass
class Store:
    """Samples by series; `add` keeps each series in time order."""

    series: dict[Labels, Series] = field(default_factory=dict)

    def add(self, labels: Mapping[str, str], time: float, value: float) -> None:
        key = frozenset(labels.items())
        found = self.series.setdefault(key, Series(dict(labels)))
        found.samples.append((time, value))
        found.samples.sort()

    def names(self) -> set[str]:
        return {s.labels["__name__"] for s in self.series.values()}

    def latest_time(self) -> float:
        return max((s.samples[-1][0] for s in self.series.values() if s.samples), default=0.0)


def without_name(labels: Labels) -> Labels:
    return frozenset((k, v) for k, v in labels if k != "__name__")


def _matches(selector: Any, labels: Mapping[str, str]) -> bool:
    if selector.name and labels.get("__name__") != selector.name:
        return False
    for matcher in selector.matchers.matchers:
        value = labels.get(matcher.name, "")
        op = str(matcher.op)
        if op == "MatchOp.Equal" and value != matcher.value:
            return False
        if op == "MatchOp.NotEqual" and value == matcher.value:
            return False
        if op == "MatchOp.Re" and not re.fullmatch(matcher.value, value):
            return False
        if op == "MatchOp.NotRe" and re.fullmatch(matcher.value, value):
            return False
    if selector.matchers.or_matchers or selector.offset or selector.at:
        raise NotImplementedError("or-matchers, offset and @ are not used by our rules")
    return True


class Evaluator:
    def __init__(self, store: Store) -> None:
        self.store = store

    def query(self, expr: str, at: float) -> Vector:
        result = self._eval(pp.parse(expr), at)
        if isinstance(result, float):
            return {frozenset(): result}
        return result

    # --- the tree -----------------------------------------------------------------------------------

    def _eval(self, node: Any, at: float) -> Vector | float:
        if isinstance(node, pp.NumberLiteral):
            return float(node.val)
        if isinstance(node, pp.ParenExpr):
            return self._eval(node.expr, at)
        if isinstance(node, pp.UnaryExpr):
            inner = self._eval(node.expr, at)
            return -inner if isinstance(inner, float) else {k: -v for k, v in inner.items()}
        if isinstance(node, pp.VectorSelector):
            return self._instant(node, at)
        if isinstance(node, pp.Call):
            return self._call(node, at)
        if isinstance(node, pp.AggregateExpr):
            return self._aggregate(node, at)
        if isinstance(node, pp.BinaryExpr):
            return self._binary(node, at)
        raise NotImplementedError(f"{type(node).__name__} is not evaluated here")

    def _instant(self, selector: Any, at: float) -> Vector:
        found: Vector = {}
        for series in self.store.series.values():
            if not _matches(selector, series.labels):
                continue
            recent = [(t, v) for t, v in series.samples if at - LOOKBACK_SECONDS < t <= at]
            if recent:
                found[frozenset(series.labels.items())] = recent[-1][1]
        return found

    def _range(self, node: Any, at: float) -> tuple[dict[Labels, list[tuple[float, float]]], float]:
        if not isinstance(node, pp.MatrixSelector):
            raise NotImplementedError("a range function needs a range selector (no subqueries here)")
        seconds = node.range.total_seconds()
        found = {}
        for series in self.store.series.values():
            if _matches(node.vector_selector, series.labels):
                window = [(t, v) for t, v in series.samples if at - seconds < t <= at]
                if window:
                    found[frozenset(series.labels.items())] = window
        return found, seconds

    def _call(self, node: Any, at: float) -> Vector:
        name = node.func.name
        if name in ("rate", "increase", "delta"):
            ranges, seconds = self._range(node.args[0], at)
            result = {}
            for labels, samples in ranges.items():
                value = extrapolated_rate(samples, at - seconds, at, counter=name != "delta", per_second=name == "rate")
                if value is not None:
                    result[without_name(labels)] = value
            return result
        if name in ("min_over_time", "max_over_time"):
            ranges, _ = self._range(node.args[0], at)
            pick: Callable[[Iterable[float]], float] = min if name == "min_over_time" else max
            return {without_name(labels): pick(v for _, v in samples) for labels, samples in ranges.items()}
        if name == "absent_over_time":
            ranges, _ = self._range(node.args[0], at)
            if ranges:
                return {}
            equal = [m for m in node.args[0].vector_selector.matchers.matchers if str(m.op) == "MatchOp.Equal"]
            return {frozenset((m.name, m.value) for m in equal): 1.0}
        if name == "histogram_quantile":
            quantile = self._eval(node.args[0], at)
            assert isinstance(quantile, float)
            buckets = self._eval(node.args[1], at)
            assert isinstance(buckets, dict)
            return histogram_quantile(quantile, buckets)
        raise NotImplementedError(f"function {name} is not evaluated here")

    def _aggregate(self, node: Any, at: float) -> Vector:
        inner = self._eval(node.expr, at)
        assert isinstance(inner, dict)
        modifier = node.modifier
        groups: dict[Labels, list[float]] = defaultdict(list)
        for labels, value in inner.items():
            plain = without_name(labels)
            if modifier is None:
                key: Labels = frozenset()
            elif modifier.type == pp.AggModifierType.By:
                key = frozenset((k, v) for k, v in plain if k in modifier.labels)
            else:
                key = frozenset((k, v) for k, v in plain if k not in modifier.labels)
            groups[key].append(value)
        op = str(node.op)
        functions: dict[str, Callable[[list[float]], float]] = {
            "sum": sum,
            "min": min,
            "max": max,
            "count": lambda values: float(len(values)),
        }
        if op not in functions:
            raise NotImplementedError(f"aggregation {op} is not evaluated here")
        return {key: functions[op](values) for key, values in groups.items()}

    def _binary(self, node: Any, at: float) -> Vector | float:
        op = str(node.op)
        lhs, rhs = self._eval(node.lhs, at), self._eval(node.rhs, at)
        modifier = node.modifier
        return_bool = bool(modifier and modifier.return_bool)
        matching = modifier.matching if modifier else None
        if op in ("and", "or", "unless"):
            assert isinstance(lhs, dict) and isinstance(rhs, dict)
            sig = signature(matching)
            right = {sig(labels) for labels in rhs}
            if op == "and":
                return {k: v for k, v in lhs.items() if sig(k) in right}
            if op == "unless":
                return {k: v for k, v in lhs.items() if sig(k) not in right}
            left = {sig(labels) for labels in lhs}
            return {**lhs, **{k: v for k, v in rhs.items() if sig(k) not in left}}
        if isinstance(lhs, float) and isinstance(rhs, float):
            value = ARITHMETIC[op](lhs, rhs) if op in ARITHMETIC else float(COMPARISONS[op](lhs, rhs))
            return value
        if isinstance(lhs, dict) and isinstance(rhs, float):
            return vector_scalar(lhs, rhs, op, return_bool, scalar_right=True)
        if isinstance(lhs, float) and isinstance(rhs, dict):
            return vector_scalar(rhs, lhs, op, return_bool, scalar_right=False)
        assert isinstance(lhs, dict) and isinstance(rhs, dict)
        if modifier is not None and str(modifier.card) not in ("VectorMatchCardinality.OneToOne",):
            raise NotImplementedError("group_left/group_right are not evaluated here")
        sig = signature(matching)
        right_by = {sig(labels): (labels, value) for labels, value in rhs.items()}
        result: Vector = {}
        for labels, value in lhs.items():
            match = right_by.get(sig(labels))
            if match is None:
                continue
            if op in ARITHMETIC:
                result[sig(labels)] = ARITHMETIC[op](value, match[1])  # on(…) keeps those, ignoring(…) drops those
            elif COMPARISONS[op](value, match[1]):
                result[without_name(labels) if return_bool else labels] = 1.0 if return_bool else value
            elif return_bool:
                result[without_name(labels)] = 0.0
        return result


def signature(matching: Any) -> Callable[[Labels], Labels]:
    """The labels two samples must share to match: all but the name, or those of on(…) / not those of ignoring(…)."""
    if matching is None:
        return without_name
    names = set(matching.labels)
    if str(matching.type) == "LabelModifierType.Include":
        return lambda labels: frozenset((k, v) for k, v in labels if k in names)
    return lambda labels: frozenset((k, v) for k, v in labels if k not in names and k != "__name__")


ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b if b else (math.nan if a == 0 else math.copysign(math.inf, a)),
}
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def vector_scalar(vector: Vector, scalar: float, op: str, return_bool: bool, *, scalar_right: bool) -> Vector:
    result: Vector = {}
    for labels, value in vector.items():
        a, b = (value, scalar) if scalar_right else (scalar, value)
        if op in ARITHMETIC:
            result[without_name(labels)] = ARITHMETIC[op](a, b)
        elif return_bool:
            result[without_name(labels)] = float(COMPARISONS[op](a, b))
        elif COMPARISONS[op](a, b):
            result[labels] = value  # a filter keeps the vector's own value (and its name)
    return result


def extrapolated_rate(
    samples: list[tuple[float, float]], start: float, end: float, *, counter: bool, per_second: bool
) -> float | None:
    """Prometheus's extrapolatedRate (promql/functions.go), for rate(), increase() and delta()."""
    if len(samples) < 2:
        return None
    first_t, first_v = samples[0]
    last_t, last_v = samples[-1]
    result = last_v - first_v
    if counter:
        previous = first_v
        for _, value in samples[1:]:
            if value < previous:
                result += previous  # a counter reset
            previous = value
    sampled = last_t - first_t
    to_start, to_end = first_t - start, end - last_t
    average = sampled / (len(samples) - 1)
    if counter and result > 0 and first_v >= 0:
        to_zero = sampled * (first_v / result)
        to_start = min(to_start, to_zero)
    threshold = average * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average / 2
    interval += to_end if to_end < threshold else average / 2
    result *= interval / sampled
    if per_second:
        result /= end - start
    return result


def histogram_quantile(q: float, buckets: Vector) -> Vector:
    """Prometheus's bucketQuantile (promql/quantile.go) over `_bucket` series grouped by all labels but `le`."""
    groups: dict[Labels, list[tuple[float, float]]] = defaultdict(list)
    for labels, value in buckets.items():
        le = dict(labels).get("le")
        if le is None:
            continue
        key = frozenset((k, v) for k, v in labels if k not in ("le", "__name__"))
        groups[key].append((math.inf if le in ("+Inf", "inf") else float(le), value))
    result: Vector = {}
    for key, pairs in groups.items():
        pairs.sort()
        if q < 0 or q > 1 or not pairs or pairs[-1][0] != math.inf or len(pairs) < 2:
            result[key] = math.nan if not (q < 0 or q > 1) else (-math.inf if q < 0 else math.inf)
            continue
        # Monotonic counts, as Prometheus ensures.
        counts, highest = [], 0.0
        for _, count in pairs:
            highest = max(highest, count)
            counts.append(highest)
        observations = counts[-1]
        if observations == 0:
            result[key] = math.nan
            continue
        rank = q * observations
        index = next(i for i, count in enumerate(counts) if count >= rank)
        if index == len(pairs) - 1:
            result[key] = pairs[-2][0]
            continue
        if index == 0 and pairs[0][0] <= 0:
            result[key] = pairs[0][0]
            continue
        bucket_start, count_start = (0.0, 0.0) if index == 0 else (pairs[index - 1][0], counts[index - 1])
        bucket_end, count = pairs[index][0], counts[index] - count_start
        rank -= count_start
        result[key] = bucket_start + (bucket_end - bucket_start) * (rank / count)
    return result


# --- from OTLP to Prometheus series, as Prometheus's OTLP receiver translates them ---------------------

UNIT_SUFFIXES = {"s": "seconds", "ms": "milliseconds", "By": "bytes", "%": "percent"}


def prometheus_base_name(name: str, unit: str, kind: str) -> str:
    """UnderscoreEscapingWithSuffixes: dots to underscores, the unit appended (without `_total` or `_bucket`)."""
    base = re.sub(r"[^a-zA-Z0-9_:]", "_", name)
    unit = re.sub(r"\{[^}]*\}", "", unit)
    suffix = "ratio" if unit == "1" and kind == "gauge" else UNIT_SUFFIXES.get(unit, unit if unit != "1" else "")
    if suffix and not base.endswith(f"_{suffix}"):
        base = f"{base}_{suffix}"
    return base


def label_name(key: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", key)


def bound(value: float) -> str:
    """A bucket's `le` as Prometheus writes it (100, 0.005, +Inf)."""
    return "+Inf" if math.isinf(value) else format(value, "g")


def store_from_otlp(requests: Iterable[Any]) -> Store:
    """Every data point of every ExportMetricsServiceRequest as Prometheus samples (name, labels, time, value)."""
    store = Store()
    for request in requests:
        for resource_metrics in request.resource_metrics:
            resource = {kv.key: _value(kv.value) for kv in resource_metrics.resource.attributes}
            target = {
                "job": f"{resource.get('service.namespace')}/{resource.get('service.name')}",
                "instance": str(resource.get("service.instance.id", "")),
            }
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    kind = metric.WhichOneof("data") or ""
                    data = getattr(metric, kind)
                    base = prometheus_base_name(metric.name, metric.unit, kind)
                    for point in data.data_points:
                        labels = {label_name(kv.key): str(_value(kv.value)) for kv in point.attributes} | target
                        time = point.time_unix_nano / 1e9
                        if kind == "histogram":
                            running = 0.0
                            bounds = [*point.explicit_bounds, math.inf]
                            for upper, count in zip(bounds, point.bucket_counts, strict=True):
                                running += count
                                store.add({**labels, "__name__": f"{base}_bucket", "le": bound(upper)}, time, running)
                            store.add({**labels, "__name__": f"{base}_count"}, time, float(point.count))
                            store.add({**labels, "__name__": f"{base}_sum"}, time, float(point.sum))
                        elif kind in ("sum", "gauge"):
                            name = f"{base}_total" if kind == "sum" and data.is_monotonic else base
                            value = point.as_double if point.WhichOneof("value") == "as_double" else point.as_int
                            store.add({**labels, "__name__": name}, time, float(value))
    return store


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None
