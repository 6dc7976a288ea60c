"""deploy/compose: valid against the Compose specification, and wired the way the platform needs.

The schema is the Compose specification's own `compose-spec.json`, vendored in tests/deploy/schemas
(Apache-2.0, taken from the check-jsonschema wheel's vendored copy; sha256 d549057e…): nothing is
downloaded at test time.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from shared.messaging import SERVICES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"
SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"
# Images with no shell or HTTP client inside to run a health check with; what waits on them waits for the start.
WITHOUT_HEALTHCHECK = {"otel-collector", "tempo"}
ONE_SHOT = {"migrate", "tempo-init"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())
    return loaded


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = Draft202012Validator(json.loads(SCHEMA.read_text()))
    return sorted(f"{error.json_path}: {error.message}" for error in validator.iter_errors(document))


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    assert schema_errors(compose) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda c: c["services"]["gateway"]["depends_on"]["partners"].update(condition="service_ready"),
        lambda c: c["services"]["migrate"].update(depends_on="postgres"),
        lambda c: c["services"]["grafana"].update(port=["3000:3000"]),
    ],
    ids=["unknown-condition", "wrong-type", "unknown-key"],
)
def test_the_schema_check_catches_a_broken_file(compose: dict[str, Any], breakage: Any) -> None:
    broken = copy.deepcopy(compose)
    breakage(broken)
    assert schema_errors(broken) != []


def test_every_service_and_the_gateway_run_from_the_one_image_built_from_deploy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    commands = {name: svc.get("command") for name, svc in services.items()}
    for name in SERVICES:
        assert commands[name] == ["service", name]
    assert commands["gateway"] == ["gateway"]
    partnernet = [name for name in services if name in (*SERVICES, "gateway", "migrate")]
    assert len({services[name]["image"] for name in partnernet}) == 1
    builds = [svc["build"] for svc in services.values() if "build" in svc]
    assert builds == [{"context": "../..", "dockerfile": "deploy/Dockerfile"}]
    assert (COMPOSE_DIR / builds[0]["context"] / builds[0]["dockerfile"]).resolve() == ROOT / "deploy" / "Dockerfile"


def test_nats_is_a_three_node_jetstream_cluster_and_streams_are_replicated_three_times(
    compose: dict[str, Any],
) -> None:
    nodes = sorted(name for name in compose["services"] if name.startswith("nats-"))
    assert nodes == ["nats-1", "nats-2", "nats-3"]
    config = (COMPOSE_DIR / "nats" / "nats.conf").read_text()
    assert "jetstream {" in config and "sync_interval: always" in config
    assert sorted(re.findall(r"nats-route://(nats-\d):6222", config)) == nodes
    names = {compose["services"][node]["environment"]["SERVER_NAME"] for node in nodes}
    assert names == set(nodes), "JetStream needs a distinct server name per node"
    for name in (*SERVICES, "gateway"):
        environment = compose["services"][name]["environment"]
        assert environment["PARTNERNET_STREAM_REPLICAS"] == "3"
        assert environment["NATS_URL"].startswith("nats://nats-")


def test_start_order_waits_for_what_each_part_needs(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on an unknown {dependency}"
            wanted = condition["condition"]
            if wanted == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits for {dependency} to be healthy"
            if wanted == "service_completed_successfully":
                assert dependency in ONE_SHOT
    for name in SERVICES:
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert all(needs[f"nats-{i}"]["condition"] == "service_healthy" for i in (1, 2, 3))
    assert {name for name, c in services["gateway"]["depends_on"].items() if name in SERVICES} == set(SERVICES)
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_long_running_container_has_a_health_check(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if name in ONE_SHOT | WITHOUT_HEALTHCHECK:
            continue
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
    partnernet_check = compose["services"]["referrals"]["healthcheck"]["test"]
    assert "/readyz" in " ".join(partnernet_check)


def test_services_run_replicas_and_send_telemetry_to_the_collector(compose: dict[str, Any]) -> None:
    for name in SERVICES:
        assert compose["services"][name]["deploy"]["replicas"] >= 2
        environment = compose["services"][name]["environment"]
        assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    collector = yaml.safe_load((COMPOSE_DIR / "otel-collector" / "config.yaml").read_text())
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    pipelines = collector["service"]["pipelines"]
    assert pipelines["traces"]["exporters"] == ["otlp/tempo"]
    assert pipelines["metrics"]["exporters"] == ["otlphttp/prometheus"]
    assert collector["exporters"]["otlphttp/prometheus"]["endpoint"] == "http://prometheus:9090/api/v1/otlp"
    prometheus = compose["services"]["prometheus"]["command"]
    assert "--web.enable-otlp-receiver" in prometheus
    assert "--enable-feature=exemplar-storage" in prometheus


def test_every_mounted_file_is_in_the_repository(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE_DIR / source).exists(), f"{name} mounts {source}, which does not exist"


def test_grafana_loads_the_dashboards_and_prometheus_the_alert_rules(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]["volumes"]
    dashboards_mount = next(v for v in grafana if v.startswith("../observability/dashboards:"))
    provider = yaml.safe_load((COMPOSE_DIR / "grafana/provisioning/dashboards/dashboards.yaml").read_text())
    assert dashboards_mount.split(":")[1] == provider["providers"][0]["options"]["path"]
    datasources = yaml.safe_load((COMPOSE_DIR / "grafana/provisioning/datasources/datasources.yaml").read_text())
    uids = {source["uid"]: source for source in datasources["datasources"]}
    assert uids["prometheus"]["jsonData"]["exemplarTraceIdDestinations"][0]["datasourceUid"] == "tempo"
    assert uids["tempo"]["type"] == "tempo"
    rules_mount = next(v for v in compose["services"]["prometheus"]["volumes"] if "observability/alerts" in v)
    config = yaml.safe_load((COMPOSE_DIR / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == [rules_mount.split(":")[1] + "/*.yml"]
