"""deploy/compose: valid against the Compose specification, and wired the way the platform needs.

The schema is the Compose specification's own `compose-spec.json`, vendored in tests/deploy/schemas
(Apache-2.0, taken from the check-jsonschema wheel's vendored copy; sha256 d549057e…): nothing is
downloaded at test time.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import nats
import nats.errors
import pytest
import yaml
from jsonschema import Draft202012Validator

from launcher.cli import nats_auth
from launcher.embedded import free_port, nats_server_binary
from shared.messaging import SERVICES
from shared.nats_callout import PLATFORM_USER, issuer_for

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
        # As the platform's user, whose password nats.conf requires (see the auth tests below).
        assert re.fullmatch(
            r"nats://partnernet:\$\{NATS_PLATFORM_PASSWORD:\?[^}]+\}@nats-1:4222", environment["NATS_URL"]
        )


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


def authorization_block(config: str) -> str:
    found = re.search(r"^authorization \{.*?^\}", config, re.S | re.M)
    assert found, "no authorization block: anyone who reaches NATS could read every event"
    return found.group(0)


def test_nats_requires_the_platform_user_and_sends_everyone_else_to_the_auth_callout(compose: dict[str, Any]) -> None:
    block = authorization_block((COMPOSE_DIR / "nats" / "nats.conf").read_text())
    assert re.search(r"users: \[ \{ user: partnernet, password: \$NATS_PLATFORM_PASSWORD \} \]", block)
    assert re.search(r"auth_callout \{\s*issuer: \$NATS_CALLOUT_ISSUER\s*auth_users: \[ partnernet \]\s*\}", block)
    assert PLATFORM_USER == "partnernet"
    for node in ("nats-1", "nats-2", "nats-3"):
        environment = compose["services"][node]["environment"]
        for variable in ("NATS_PLATFORM_PASSWORD", "NATS_CALLOUT_ISSUER"):
            assert environment[variable].startswith("${" + variable + ":?"), f"{node} must be given {variable}"


def test_nats_auth_prints_a_password_and_the_issuer_derived_from_it() -> None:
    given = dict(line.split("=", 1) for line in nats_auth("s3cret").splitlines())
    assert given == {"NATS_PLATFORM_PASSWORD": "s3cret", "NATS_CALLOUT_ISSUER": issuer_for("s3cret").public_key}
    made = dict(line.split("=", 1) for line in nats_auth().splitlines())
    assert len(made["NATS_PLATFORM_PASSWORD"]) >= 32 and made["NATS_PLATFORM_PASSWORD"].isalnum()  # URL-safe
    assert made["NATS_CALLOUT_ISSUER"] == issuer_for(made["NATS_PLATFORM_PASSWORD"]).public_key


async def test_a_real_nats_server_with_the_compose_block_lets_only_the_platform_user_in(tmp_path: Path) -> None:
    """The block as Compose runs it, on the nats-server of our wheel: the platform's user connects, a client
    without credentials is refused (no partners service answers the callout here, so nobody else gets in)."""
    values = dict(line.split("=", 1) for line in nats_auth().splitlines())
    port = free_port()
    config = tmp_path / "nats.conf"
    config.write_text(f"port: {port}\n" + authorization_block((COMPOSE_DIR / "nats" / "nats.conf").read_text()))
    check = await asyncio.create_subprocess_exec(
        str(nats_server_binary()), "-t", "-c", str(config), stderr=asyncio.subprocess.PIPE, env={**os.environ}
    )
    _, complaint = await check.communicate()
    assert check.returncode != 0 and b"NATS_PLATFORM_PASSWORD" in complaint, "the password is required"
    server = await asyncio.create_subprocess_exec(
        str(nats_server_binary()),
        "-c",
        str(config),
        env={**os.environ, **values},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        platform = None
        for _ in range(50):
            try:
                platform = await nats.connect(
                    f"nats://{PLATFORM_USER}:{values['NATS_PLATFORM_PASSWORD']}@127.0.0.1:{port}",
                    allow_reconnect=False,
                    connect_timeout=1,
                )
                break
            except (OSError, nats.errors.Error):
                await asyncio.sleep(0.1)
        assert platform is not None, "the platform's user could not connect"
        await platform.close()
        refusals = []
        for _ in range(3):
            try:
                stranger = await nats.connect(f"nats://127.0.0.1:{port}", allow_reconnect=False, connect_timeout=5)
            except nats.errors.Error as exc:
                refusals.append(str(exc))
                break
            # nats-py 2.16 returns from connect when its read after CONNECT meets the server's close before the
            # -ERR line (seen once on a loaded machine; its read loop then says "unexpected EOF"): a client that is
            # not connected and closes, carrying nothing. Never a usable connection; the refusal itself is asked again.
            try:
                assert not stranger.is_connected, "a client without credentials is connected"
            finally:
                await stranger.close()
        assert refusals and "Authorization Violation" in refusals[-1], refusals
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), timeout=10)


OBSERVABILITY = {"otel-collector", "tempo", "tempo-init", "prometheus", "grafana"}


def test_no_platform_container_waits_for_the_operators_stack(compose: dict[str, Any]) -> None:
    """A broken Prometheus rules file (Prometheus never healthy) or a stopped collector starts nothing late."""
    services = compose["services"]

    def needs(name: str) -> set[str]:
        found: set[str] = set()
        for dependency, condition in services[name].get("depends_on", {}).items():
            if condition.get("required", True):
                found |= {dependency} | needs(dependency)
        return found

    for name in set(services) - OBSERVABILITY:
        assert needs(name).isdisjoint(OBSERVABILITY), f"{name} cannot start without {needs(name) & OBSERVABILITY}"
    for name in OBSERVABILITY:
        unhealthy = [d for d, c in services[name].get("depends_on", {}).items() if c["condition"] == "service_healthy"]
        assert unhealthy == [], f"{name} waits for {unhealthy} to be healthy"


def test_tempo_generates_the_service_map_into_prometheus(compose: dict[str, Any]) -> None:
    tempo = yaml.safe_load((COMPOSE_DIR / "tempo" / "tempo.yaml").read_text())
    generator = tempo["metrics_generator"]
    assert generator["storage"]["remote_write"][0]["url"] == "http://prometheus:9090/api/v1/write"
    assert {"service-graphs", "span-metrics"} <= set(tempo["overrides"]["defaults"]["metrics_generator"]["processors"])
    assert generator["storage"]["path"].startswith("/var/tempo/")  # the volume Tempo may write
    assert "--web.enable-remote-write-receiver" in compose["services"]["prometheus"]["command"]
    datasources = yaml.safe_load((COMPOSE_DIR / "grafana/provisioning/datasources/datasources.yaml").read_text())
    (tempo_source,) = [s for s in datasources["datasources"] if s["type"] == "tempo"]
    assert tempo_source["jsonData"]["serviceMap"]["datasourceUid"] == "prometheus"
