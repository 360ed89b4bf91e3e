"""docker-compose.yml's observability and example services, checked statically (no Docker
engine runs here): the Compose Specification schema, health checks and start order, and that
every port, path, credential and variable matches the code and the other config files."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from driftline.access.keys import KEY_PATTERN
from driftline.core.settings import Settings

ROOT = Path(__file__).parents[1]
ONE_SHOT = {"migrate", "setup"}


def _yaml(path: str) -> Any:
    return yaml.safe_load((ROOT / path).read_text())


def _services() -> dict[str, Any]:
    services: dict[str, Any] = _yaml("docker-compose.yml")["services"]
    return services


def _scrape_jobs() -> dict[str, Any]:
    return {job["job_name"]: job for job in _yaml("prometheus/prometheus.yml")["scrape_configs"]}


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path (``./...``) of the bind mounts."""
    out = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            out[target] = source
    return out


def test_the_file_follows_the_compose_specification() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "compose_spec.json").read_text())
    compose = _yaml("docker-compose.yml")
    jsonschema.Draft201909Validator(schema).validate(compose)
    broken = dict(compose, services={"api": {"image": "x", "depends_on": {"db": {"when": 1}}}})
    assert not jsonschema.Draft201909Validator(schema).is_valid(broken)


def test_health_checks_and_start_order() -> None:
    services = _services()
    assert {
        "api",
        "collector",
        "scheduler",
        "prometheus",
        "grafana",
        "model-server",
        "retraining-receiver",
        "kafka",
        "postgres",
        "setup",
    } <= set(services)
    for name, service in services.items():
        if name not in ONE_SHOT:
            assert "healthcheck" in service, f"{name} has no health check"
        for dependency, rule in service.get("depends_on", {}).items():
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits on {dependency}"
            if condition == "service_completed_successfully":
                assert dependency in ONE_SHOT, f"{name}: {dependency} never completes"
    assert set(_yaml("docker-compose.yml")["volumes"]) >= {"prometheus-data", "grafana-data"}


def test_prometheus_scrapes_every_part_where_it_listens() -> None:
    services, jobs, defaults = _services(), _scrape_jobs(), Settings()
    api_port = services["api"]["command"][services["api"]["command"].index("--port") + 1]
    assert jobs["driftline-api"]["static_configs"][0]["targets"] == [f"api:{api_port}"]
    for part, port in (
        ("collector", defaults.collector.metrics_port),
        ("scheduler", defaults.scheduler.metrics_port),
    ):
        sd = jobs[f"driftline-{part}"]["dns_sd_configs"][0]
        assert sd["names"] == [part] and sd["port"] == port  # every replica, by DNS
        env = services[part]["environment"]
        assert env[f"DRIFTLINE_{part.upper()}__METRICS_HOST"] == "0.0.0.0"
        assert f"{port}/readyz" in " ".join(services[part]["healthcheck"]["test"])
    assert services["scheduler"]["command"] == ["scheduler"]
    mounts = _mounts(services["prometheus"])
    assert mounts["/etc/prometheus"] == "./prometheus"
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]


def test_one_demo_key_for_the_api_prometheus_and_the_setup_job() -> None:
    services = _services()
    key = services["api"]["environment"]["DRIFTLINE_BOOTSTRAP_ADMIN_KEY"]
    assert re.match(KEY_PATTERN, key)
    credentials = _scrape_jobs()["driftline-api"]["authorization"]["credentials_file"]
    assert (ROOT / "prometheus" / credentials).read_text().strip() == key
    assert services["setup"]["environment"]["API_KEY"] == key


def test_grafana_provisions_the_datasource_and_the_built_dashboards() -> None:
    services = _services()
    grafana = services["grafana"]
    mounts = _mounts(grafana)
    assert mounts["/etc/grafana/provisioning"] == "./grafana/provisioning"
    datasource = _yaml("grafana/provisioning/datasources/prometheus.yml")["datasources"][0]
    assert datasource["type"] == "prometheus" and datasource["isDefault"]
    assert datasource["url"] == "http://prometheus:9090"
    assert "9090:9090" in services["prometheus"]["ports"]
    provider = _yaml("grafana/provisioning/dashboards/driftline.yml")["providers"][0]
    assert mounts[provider["options"]["path"]] == "./grafana/dashboards"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (ROOT / "grafana" / "dashboards" / Path(home).name).exists()
    # The dashboards are built with the SDK's build for this Grafana version.
    pinned = re.search(
        r"grafana-foundation-sdk==\d+!(\d+\.\d+)", (ROOT / "pyproject.toml").read_text()
    )
    assert pinned and grafana["image"].startswith(f"grafana/grafana:{pinned.group(1)}")


def _module_source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"no module {module}"
    text = Path(spec.origin).read_text()
    if spec.submodule_search_locations:  # a package run with -m: its __main__ too
        text += (Path(spec.origin).parent / "__main__.py").read_text()
    return text


def test_example_services_run_real_modules_with_variables_they_read() -> None:
    services = _services()
    for name in ("model-server", "retraining-receiver", "setup"):
        service = services[name]
        command = " ".join(service.get("command") or [])
        dockerfile = service.get("build", {}).get("dockerfile")
        if not command and dockerfile:
            command = (ROOT / dockerfile).read_text().split("CMD", 1)[1]
        module = re.search(r"-m[\", ]+(examples[\w.]+)", command)
        assert module, f"{name}: {command}"
        source = _module_source(module.group(1))
        for variable in service.get("environment", {}):
            if variable != "PYTHONUNBUFFERED":
                quoted = (f'"{variable}"', f"'{variable}'")
                assert any(q in source for q in quoted), (
                    f"{name}: {module.group(1)} ignores {variable}"
                )
    setup = services["setup"]["environment"]
    assert setup["MODEL_SERVER_URL"] == "http://model-server:8001"
    assert "8001:8001" in services["model-server"]["ports"]
    assert setup["RECEIVER_URL"].startswith("http://retraining-receiver:9000/")
    assert "--port 9000" in " ".join(services["retraining-receiver"]["command"])
    assert (
        "retraining-receiver" in services["api"]["environment"]["DRIFTLINE_WEBHOOKS__ALLOWED_HOSTS"]
    )
    dockerfile = (ROOT / "examples" / "model_server" / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (\S+)", dockerfile, flags=re.M):
        assert (ROOT / source).exists(), source
