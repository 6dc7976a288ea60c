"""Dashboards and alert rules parse, point at provisioned data sources, and use only metrics the platform exports.

"Exports" is checked against a real export: the platform of tests/telemetry/export.py, built as in
production, sends OTLP to a local receiver; its metric names are turned into Prometheus names the way
Prometheus's OTLP receiver does (dots to underscores, unit suffix, `_total` on counters, `_bucket` /
`_sum` / `_count` on histograms) and every PromQL selector in the dashboards and rules must name one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from shared import metrics
from tests.telemetry.export import collected_export
from tests.telemetry.receiver import ReceivedMetric

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "observability" / "dashboards").glob("*.json"))
RULES = sorted((ROOT / "deploy" / "observability" / "alerts").glob("*.yml"))
DATASOURCES = ROOT / "deploy" / "compose" / "grafana" / "provisioning" / "datasources" / "datasources.yaml"
# Labels Prometheus adds itself, and the histogram bucket bound.
PROMETHEUS_LABELS = {"job", "instance", "le", "__name__"}
# Metrics a dashboard or rule may use before the scenario can produce them, with their labels and why.
# Once the export has one, its entry must go (the last test says so).
NOT_YET_EXPORTED: dict[str, tuple[set[str], str]] = {}
# Prometheus's OTLP translation of units (UnderscoreEscapingWithSuffixes).
UNIT_SUFFIXES = {"s": "seconds", "ms": "milliseconds", "By": "bytes", "%": "percent"}


def prometheus_names(metric: ReceivedMetric) -> set[str]:
    name = re.sub(r"[^a-zA-Z0-9_:]", "_", metric.name)
    unit = re.sub(r"\{[^}]*\}", "", metric.unit)
    suffix = "ratio" if unit == "1" and metric.kind == "gauge" else UNIT_SUFFIXES.get(unit, unit if unit != "1" else "")
    if suffix and not name.endswith(f"_{suffix}"):
        name = f"{name}_{suffix}"
    if metric.kind == "sum" and metric.monotonic:
        return {f"{name}_total"}
    if metric.kind == "histogram":
        return {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return {name}


def prometheus_labels(metric: ReceivedMetric) -> set[str]:
    return {re.sub(r"[^a-zA-Z0-9_]", "_", key) for point in metric.points for key in point}


def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))


def dashboard(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def datasource_type(panel: dict[str, Any], target: dict[str, Any]) -> str:
    return str((target.get("datasource") or panel.get("datasource") or {}).get("type", ""))


def promql_of_dashboards() -> list[tuple[str, str]]:
    found = []
    for path in DASHBOARDS:
        board = dashboard(path)
        for panel in panels(board["panels"]):
            for target in panel.get("targets", []):
                if datasource_type(panel, target) == "prometheus":
                    found.append((f"{path.name}: {panel['title']}", target["expr"]))
        for variable in board.get("templating", {}).get("list", []):
            if variable["type"] == "query":
                selector = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", variable["definition"])
                assert selector is not None, variable["definition"]
                found.append((f"{path.name}: ${variable['name']}", selector.group(1)))
    return found


def rules() -> list[dict[str, Any]]:
    return [rule for path in RULES for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]]


def parse(expr: str) -> promql_parser.Expr:
    """Grafana's variables become values PromQL accepts; anything else must be PromQL as written."""
    expr = re.sub(r"\$__(rate_interval|interval|range)", "5m", expr)
    return promql_parser.parse(expr)


def uses(expr: str) -> dict[str, set[str]]:
    """Metric name -> labels the expression relies on (in matchers, and in `by (…)` over that metric)."""
    tree = parse(expr)
    used: dict[str, set[str]] = {}

    def selectors(node: Any) -> list[Any]:
        found: list[Any] = []
        promql_parser.walk(node, lambda n: found.append(n) if isinstance(n, promql_parser.VectorSelector) else None)
        return found

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            labels = {m.name for m in node.matchers.matchers}
            used.setdefault(node.name or "", set()).update(labels)
        grouped = isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None
        if grouped and node.modifier.type == promql_parser.AggModifierType.By:
            for selector in selectors(node.expr):
                used.setdefault(selector.name, set()).update(node.modifier.labels)

    promql_parser.walk(tree, visit)
    return used


def test_dashboards_are_grafana_json_with_unique_uids_and_panel_ids() -> None:
    assert {p.name for p in DASHBOARDS} == {"platform-overview.json", "referral-funnel.json", "referral-trace.json"}
    uids = [dashboard(p)["uid"] for p in DASHBOARDS]
    assert len(set(uids)) == len(uids)
    for path in DASHBOARDS:
        board = dashboard(path)
        ids = [panel["id"] for panel in panels(board["panels"])]
        assert len(set(ids)) == len(ids), path.name
        assert board["schemaVersion"] >= 36 and board["title"].startswith("partnernet")


def test_every_panel_uses_a_provisioned_data_source() -> None:
    provisioned = {s["uid"]: s["type"] for s in yaml.safe_load(DATASOURCES.read_text())["datasources"]}
    for path in DASHBOARDS:
        for panel in panels(dashboard(path)["panels"]):
            for source in [panel.get("datasource"), *(t.get("datasource") for t in panel.get("targets", []))]:
                if source:
                    assert provisioned.get(source["uid"]) == source["type"], f"{path.name}: {panel['title']}"


@pytest.mark.parametrize(("where", "expr"), promql_of_dashboards(), ids=[w for w, _ in promql_of_dashboards()])
def test_dashboard_queries_are_promql(where: str, expr: str) -> None:
    assert uses(expr), f"{where} selects no metric"


def test_overview_shows_traffic_errors_latency_lag_outbox_and_dead_letters() -> None:
    titles = " | ".join(p["title"] for p in panels(dashboard(DASHBOARDS[0])["panels"]))
    exprs = " ".join(expr for where, expr in promql_of_dashboards() if where.startswith("platform-overview"))
    for metric in ("http_server_duration_milliseconds_count", "http_server_duration_milliseconds_bucket"):
        assert metric in exprs
    for name in ("consumer_pending", "consumer_ack_pending", "outbox_backlog", "outbox_oldest_age", "deadletters"):
        assert f"partnernet_{name}" in exprs, name
    assert "Requests per second" in titles and "errors" in titles and "Latency" in titles


def test_latency_panels_link_to_traces_through_exemplars() -> None:
    exemplar_panels = [
        panel["title"]
        for path in DASHBOARDS
        for panel in panels(dashboard(path)["panels"])
        for target in panel.get("targets", [])
        if target.get("exemplar") and "histogram_quantile" in target.get("expr", "")
    ]
    assert len(exemplar_panels) >= 3, exemplar_panels


def test_the_trace_dashboard_searches_tempo_by_pseudonym() -> None:
    board = dashboard(next(p for p in DASHBOARDS if p.name == "referral-trace.json"))
    queries = [
        target["query"]
        for panel in panels(board["panels"])
        for target in panel.get("targets", [])
        if datasource_type(panel, target) == "tempo"
    ]
    assert '{ span.partnernet.pseudonym = "$pseudonym" }' in queries
    assert "pseudonym" in {variable["name"] for variable in board["templating"]["list"]}


def test_the_funnel_is_per_library_and_partner() -> None:
    board = dashboard(next(p for p in DASHBOARDS if p.name == "referral-funnel.json"))
    assert {variable["name"] for variable in board["templating"]["list"]} == {"library", "partner"}
    exprs = [expr for where, expr in promql_of_dashboards() if where.startswith("referral-funnel")]
    for step in ("submitted", "accepted", "intake_planned", "enrolled", "completed"):
        assert any(f"referral.{step}." in expr for expr in exprs), step


def test_alert_rules_parse_and_say_what_to_do() -> None:
    names = set()
    for rule in rules():
        names.add(rule["alert"])
        assert uses(rule["expr"]), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert re.fullmatch(r"(\d+[smhdw])+", rule.get("for", "0s")), rule["alert"]
    assert {
        "PartnernetConsumerLagGrowing",
        "PartnernetOutboxNotDraining",
        "PartnernetDeadLettersArriving",
        "PartnernetWebhookFailing",
        "PartnernetServiceWithoutReplicas",
    } <= names


def test_the_replica_alert_covers_every_component() -> None:
    (rule,) = [r for r in rules() if r["alert"] == "PartnernetServiceWithoutReplicas"]
    assert set(re.findall(r'service="(\w+)"', rule["expr"])) == {
        "partners",
        "referrals",
        "volunteers",
        "courses",
        "gateway",
    }


async def test_every_metric_used_is_one_the_platform_exports(postgres_url: str, workdir: Path) -> None:
    export = await collected_export(postgres_url, workdir)
    exported: dict[str, set[str]] = {name: set(labels) for name, (labels, _) in NOT_YET_EXPORTED.items()}
    for metric in export.metrics:
        for name in prometheus_names(metric):
            exported.setdefault(name, set()).update(prometheus_labels(metric))
    for name in [n for n in exported if n.endswith("_bucket")]:
        exported[name].add("le")
    used = [(where, expr) for where, expr in promql_of_dashboards()]
    used += [(rule["alert"], rule["expr"]) for rule in rules()]
    problems = []
    for where, expr in used:
        for name, labels in uses(expr).items():
            if name not in exported:
                problems.append(f"{where}: {name} is not exported")
            elif unknown := labels - exported[name] - PROMETHEUS_LABELS:
                problems.append(f"{where}: {name} has no label {sorted(unknown)}")
    assert problems == []


async def test_metrics_waiting_for_their_producer_are_still_waiting(postgres_url: str, workdir: Path) -> None:
    export = await collected_export(postgres_url, workdir)
    exported = {name for metric in export.metrics for name in prometheus_names(metric)}
    assert set(NOT_YET_EXPORTED).isdisjoint(exported), "exported now: remove it from NOT_YET_EXPORTED"
    assert metrics.WEBHOOK_DELIVERIES.replace(".", "_") + "_total" in exported
