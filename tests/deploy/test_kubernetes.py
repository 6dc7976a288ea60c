"""deploy/kubernetes: every manifest is valid against the Kubernetes schemas, and each Deployment is production-shaped.

The schemas are the Kubernetes API's own (OpenAPI turned JSON Schema) as shipped by the
`kubernetes-validate` package, in strict mode: an unknown field is an error, as with `kubectl --validate`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from launcher.cli import nats_auth
from launcher.embedded import nats_server_binary
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


def test_only_the_services_that_keep_personal_data_get_its_keys() -> None:
    # Volunteers seal and search volunteers' personal data with the same keys (shared/personal_data.py); without
    # them in the Secret every pod would make keys of its own and could not read the others' rows.
    expected = {
        "partnernet-referrals": {"encryption-key", "pseudonym-key", "blind-index-key"},
        "partnernet-volunteers": {"encryption-key", "blind-index-key"},
    }
    for name, deployment in by_kind("Deployment").items():
        env = deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])
        keys = {
            v["valueFrom"]["secretKeyRef"]["key"]
            for v in env
            if v.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == "partnernet-referrals"
        }
        assert keys == expected.get(name, set()), name


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
    url = by_kind("Secret")["partnernet-nats"]["stringData"]["NATS_URL"]
    assert re.match(r"nats://partnernet:[^@]+@nats\.partnernet\.svc", url), "the chart's Service for release `nats`"


def test_the_nats_chart_enforces_the_platform_user_and_the_auth_callout_from_the_secret() -> None:
    values = yaml.safe_load((KUBERNETES_DIR / "nats-values.yaml").read_text())
    authorization = values["config"]["merge"]["authorization"]
    assert authorization == {
        "users": [{"user": "partnernet", "password": "<< $NATS_PLATFORM_PASSWORD >>"}],
        "auth_callout": {"issuer": "<< $NATS_CALLOUT_ISSUER >>", "auth_users": ["partnernet"]},
    }
    secret = by_kind("Secret")["partnernet-nats"]["stringData"]
    for variable in ("NATS_PLATFORM_PASSWORD", "NATS_CALLOUT_ISSUER"):
        reference = values["container"]["env"][variable]["valueFrom"]["secretKeyRef"]
        assert reference["name"] == "partnernet-nats" and reference["key"] in secret
    box = values["natsBox"]["container"]["env"]
    assert box["NATS_USER"] == "partnernet"
    assert box["NATS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "partnernet-nats",
        "key": "NATS_PLATFORM_PASSWORD",
    }


def test_the_chart_s_rendering_of_the_block_is_a_valid_nats_configuration(tmp_path: Path) -> None:
    """What the chart writes into nats.conf (JSON, `"<< $X >>"` unquoted to `$X`), checked by nats-server itself."""
    values = yaml.safe_load((KUBERNETES_DIR / "nats-values.yaml").read_text())
    rendered = json.dumps({"port": 4222, "authorization": values["config"]["merge"]["authorization"]}, indent=2)
    rendered = re.sub(r'"<<\s+(.*?)\s+>>"', r"\1", rendered)
    assert "$NATS_PLATFORM_PASSWORD" in rendered and "$NATS_CALLOUT_ISSUER" in rendered
    config = tmp_path / "nats.conf"
    config.write_text(rendered)
    environment = {**os.environ, **dict(line.split("=", 1) for line in nats_auth().splitlines())}
    checked = subprocess.run(
        [str(nats_server_binary()), "-t", "-c", str(config)], capture_output=True, text=True, env=environment
    )
    assert checked.returncode == 0, checked.stderr


def test_every_component_connects_as_the_platform_user_from_the_secret() -> None:
    config_maps, secrets = by_kind("ConfigMap"), by_kind("Secret")
    assert "NATS_URL" not in config_maps["partnernet"]["data"], "the URL carries a password: a Secret"
    for name, deployment in by_kind("Deployment").items():
        env = deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])
        (url,) = [v for v in env if v["name"] == "NATS_URL"]
        assert url["valueFrom"]["secretKeyRef"] == {"name": "partnernet-nats", "key": "NATS_URL"}, name
    assert "NATS_URL" in secrets["partnernet-nats"]["stringData"]


def readme_secrets() -> dict[str, set[str]]:
    """Secret name -> keys, as the `kubectl create secret` commands of deploy/README.md make them."""
    text = (ROOT / "deploy" / "README.md").read_text().replace("\\\n", " ")
    made: dict[str, set[str]] = {}
    for command in re.findall(r"kubectl -n partnernet create secret generic ([\w-]+)([^\n]*)", text):
        name, rest = command
        keys = set(re.findall(r"--from-literal=([\w-]+)=", rest))
        if "--from-env-file=nats.env" in rest:
            keys |= {line.split("=")[0] for line in nats_auth().splitlines()}
        made.setdefault(name, set()).update(keys)
    return made


def test_the_secrets_the_readme_makes_hold_every_key_a_pod_reads() -> None:
    made = readme_secrets()
    for name, deployment in by_kind("Deployment").items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        for variable in container.get("env", []):
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                assert reference["key"] in made.get(reference["name"], set()), f"{name}: {reference}"
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                assert source["secretRef"]["name"] in made, f"{name}: {source}"


def test_the_gateway_gets_no_database_and_the_readme_says_how_to_get_a_first_token() -> None:
    gateway = by_kind("Deployment")["partnernet-gateway"]["spec"]["template"]["spec"]["containers"][0]
    sources = [s.get("secretRef", {}).get("name") for s in gateway.get("envFrom", [])]
    assert "partnernet-database" not in sources
    assert "DATABASE_URL" not in {variable["name"] for variable in gateway.get("env", [])}
    readme = (ROOT / "deploy" / "README.md").read_text()
    assert "kubectl -n partnernet exec deploy/partnernet-gateway -- partnernet token --role operator" in readme
