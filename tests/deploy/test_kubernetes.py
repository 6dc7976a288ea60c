"""deploy/kubernetes: every manifest is valid against the Kubernetes schemas, and each Deployment is production-shaped.

The schemas are the Kubernetes API's own (OpenAPI turned JSON Schema) as shipped by the
`kubernetes-validate` package, in strict mode: an unknown field is an error, as with `kubectl --validate`.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from shared.messaging import SERVICES

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_DIR = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.34"
NOT_MANIFESTS = {"kustomization.yaml", "nats-values.yaml"}
COMPONENTS = (*SERVICES, "gateway")


def manifests() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(KUBERNETES_DIR.glob("*.yaml")):
        if path.name in NOT_MANIFESTS:
            continue
        found += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in manifests() if doc["kind"] == kind}


@pytest.mark.parametrize(
    "document",
    [doc for _, doc in manifests()],
    ids=[f"{f}:{d['kind']}/{d['metadata']['name']}" for f, d in manifests()],
)
def test_manifest_is_valid_against_the_kubernetes_schema(document: dict[str, Any]) -> None:
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_catches_a_misspelt_field() -> None:
    deployment = copy.deepcopy(by_kind("Deployment")["partnernet-referrals"])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_component_has_replicas_probes_limits_and_runs_unprivileged(component: str) -> None:
    deployment = by_kind("Deployment")[f"partnernet-{component}"]
    spec = deployment["spec"]
    assert spec["replicas"] >= 2
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["args"] == (["service", component] if component in SERVICES else ["gateway"])
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    selector = spec["selector"]["matchLabels"]
    budget = by_kind("PodDisruptionBudget")[f"partnernet-{component}"]
    assert budget["spec"]["selector"]["matchLabels"] == selector
    assert spec["template"]["metadata"]["labels"] == selector


def test_configuration_and_secrets_referenced_are_defined() -> None:
    config_maps, secrets = by_kind("ConfigMap"), by_kind("Secret")
    settings_source = (ROOT / "shared" / "settings.py").read_text()
    for key in config_maps["partnernet"]["data"]:
        assert key.startswith("OTEL_") or f'"{key}"' in settings_source, f"{key} is no setting the services read"
    for _, deployment in by_kind("Deployment").items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] in config_maps
            if "secretRef" in source:
                assert source["secretRef"]["name"] in secrets
        for variable in container.get("env", []):
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                assert reference["key"] in secrets[reference["name"]]["stringData"]
    assert "DATABASE_URL" in secrets["partnernet-database"]["stringData"]


def test_only_the_referrals_service_gets_the_personal_data_keys() -> None:
    for name, deployment in by_kind("Deployment").items():
        env = deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])
        secret_names = {v["valueFrom"]["secretKeyRef"]["name"] for v in env if "secretKeyRef" in v.get("valueFrom", {})}
        assert ("partnernet-referrals" in secret_names) == (name == "partnernet-referrals")


def test_kustomization_applies_every_manifest_but_the_secret_examples() -> None:
    kustomization = yaml.safe_load((KUBERNETES_DIR / "kustomization.yaml").read_text())
    expected = {p.name for p in KUBERNETES_DIR.glob("*.yaml")} - NOT_MANIFESTS - {"secrets.example.yaml"}
    assert set(kustomization["resources"]) == expected
    assert kustomization["images"][0]["name"] == "partnernet"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_renders_valid_manifests() -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(KUBERNETES_DIR)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    documents = [doc for doc in yaml.safe_load_all(rendered) if doc]
    assert len(documents) == len([d for f, d in manifests() if f != "secrets.example.yaml"])
    for document in documents:
        assert document["metadata"].get("namespace", "partnernet") == "partnernet"
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_nats_chart_values_make_a_three_node_jetstream_cluster() -> None:
    values = yaml.safe_load((KUBERNETES_DIR / "nats-values.yaml").read_text())
    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    assert values["config"]["jetstream"]["enabled"] is True
    assert values["config"]["jetstream"]["fileStore"]["pvc"]["enabled"] is True
    config = by_kind("ConfigMap")["partnernet"]["data"]
    assert config["PARTNERNET_STREAM_REPLICAS"] == "3"
    assert re.match(r"nats://nats\.partnernet\.svc", config["NATS_URL"]), "the chart's Service for release `nats`"
