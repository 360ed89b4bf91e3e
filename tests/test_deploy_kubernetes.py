"""deploy/kubernetes and the GitHub workflow, validated offline.

Built-in kinds are checked against the Kubernetes JSON schemas by kubernetes-validate (strict:
unknown fields fail), the ServiceMonitor against the part of the Prometheus Operator CRD it
uses, and the workflow against the GitHub workflow schema that check-jsonschema ships. The rest
checks the manifests against the code: real commands, real settings, ports that serve the
probes, selectors that select.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from typer.main import get_command

from driftline.cli import app
from tests.helpers import setting_exists

ROOT = Path(__file__).parents[1]
K8S = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30.0"  # the oldest Kubernetes release still maintained upstream
SERVICE_MONITOR = json.loads(
    (ROOT / "tests" / "fixtures" / "kubernetes" / "servicemonitor.schema.json").read_text()
)
PORTS = {"api": 8000, "collector": 9102, "scheduler": 9103}


def _documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        found += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def _of(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in _documents() if d["kind"] == kind}


@pytest.mark.parametrize(("name", "document"), _documents(), ids=lambda v: str(v)[:40])
def test_each_manifest_matches_its_schema(name: str, document: dict[str, Any]) -> None:
    if document["kind"] == "ServiceMonitor":
        jsonschema.validate(document, SERVICE_MONITOR)
    else:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_validator_would_catch_a_mistake() -> None:
    api = _of("Deployment")["driftline-api"]
    broken = json.loads(json.dumps(api))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["pth"] = "/"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    monitor = json.loads(json.dumps(_of("ServiceMonitor")["driftline-api"]))
    monitor["spec"]["endpoints"][0]["interval"] = "30 seconds"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(monitor, SERVICE_MONITOR)


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(listed) == sorted(present)


def test_deployments_run_real_commands_with_real_settings_and_probes() -> None:
    cli = get_command(app)
    config = _of("ConfigMap")["driftline"]["data"]
    secret = _of("Secret")["driftline"]["stringData"]
    for variable in [*config, *secret]:
        if variable.startswith("DRIFTLINE_"):
            assert setting_exists(variable), f"{variable} is not a setting"
    assert config["DRIFTLINE_COLLECTOR__METRICS_PORT"] == str(PORTS["collector"])
    assert config["DRIFTLINE_SCHEDULER__METRICS_PORT"] == str(PORTS["scheduler"])
    workloads = {**_of("Deployment"), **_of("Job")}
    for name, workload in workloads.items():
        container = workload["spec"]["template"]["spec"]["containers"][0]
        command: Any = cli
        for arg in container["args"]:
            if arg.startswith("-") or not hasattr(command, "commands"):
                break
            assert arg in command.commands, f"{name}: driftline {container['args']} is no command"
            command = command.commands[arg]
        assert {
            r.get("configMapRef", r.get("secretRef"))["name"] for r in container["envFrom"]
        } == {"driftline"}
        context = workload["spec"]["template"]["spec"]["securityContext"]
        assert context["runAsNonRoot"] and context["runAsUser"] == 10001  # the image's user
        if workload["kind"] != "Deployment":
            continue
        component = name.removeprefix("driftline-")
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert list(ports.values()) == [PORTS[component]]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["readinessProbe"]["httpGet"]["port"] in ports
        if component == "api":
            assert container["args"][container["args"].index("--port") + 1] == str(PORTS["api"])


def test_services_budgets_autoscaler_and_monitors_point_at_real_pods() -> None:
    deployments = _of("Deployment")
    labels = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in deployments.items()}

    def selects(selector: dict[str, Any]) -> list[str]:
        wanted = selector.get("matchLabels", selector)
        chosen = [n for n, pod in labels.items() if wanted.items() <= pod.items()]
        for expression in selector.get("matchExpressions", []):
            chosen = [n for n in chosen if labels[n].get(expression["key"]) in expression["values"]]
        return chosen

    services = _of("Service")
    for name, service in services.items():
        assert len(selects(service["spec"]["selector"])) == 1, name
    for name, budget in _of("PodDisruptionBudget").items():
        assert selects(budget["spec"]["selector"]) == [name], name
    hpa = _of("HorizontalPodAutoscaler")["driftline-collector"]["spec"]
    assert hpa["scaleTargetRef"]["name"] in deployments and hpa["maxReplicas"] <= 4
    service_labels = {n: s["metadata"]["labels"] for n, s in services.items()}
    for name, monitor in _of("ServiceMonitor").items():
        selector = monitor["spec"]["selector"]
        matched = [
            n
            for n, found in service_labels.items()
            if selector.get("matchLabels", {}).items() <= found.items()
            and all(
                found.get(e["key"]) in e["values"] for e in selector.get("matchExpressions", [])
            )
        ]
        assert matched, f"{name} selects no Service"
        for service in matched:
            names = {p["name"] for p in services[service]["spec"]["ports"]}
            assert {e["port"] for e in monitor["spec"]["endpoints"]} <= names, name


def test_github_workflow_runs_make_test_on_python_311() -> None:
    workflow = ROOT / ".github" / "workflows" / "test.yml"
    checked = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            str(workflow),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    loaded = yaml.safe_load(workflow.read_text())
    steps = loaded["jobs"]["test"]["steps"]
    assert loaded["jobs"]["test"]["runs-on"].startswith("ubuntu")
    assert any(s.get("with", {}).get("python-version") == "3.11" for s in steps)
    assert any(s.get("run") == "make test" for s in steps)
