"""docker-compose.yml cannot run here (no Docker engine); check it against the code instead."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from typer.main import get_command

from alerting.webhooks.secrets import SecretBox
from driftline.cli import app
from tests.helpers import setting_exists

ROOT = Path(__file__).parents[1]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_every_driftline_variable_is_a_real_setting() -> None:
    for name, service in _compose()["services"].items():
        if service.get("image") != "driftline:local":
            continue  # the examples' variables: tests/test_compose_stack.py
        for variable in service.get("environment", {}):
            if variable.startswith("DRIFTLINE_"):
                assert setting_exists(variable), f"{name}: {variable} is not a setting"


def test_driftline_services_run_real_commands() -> None:
    cli = get_command(app)
    for name, service in _compose()["services"].items():
        if service.get("image") != "driftline:local":
            continue
        args = service["command"]
        group: Any = cli
        for arg in args:
            if arg.startswith("-") or not hasattr(group, "commands"):
                break
            assert arg in group.commands, f"{name}: `driftline {' '.join(args)}` is not a command"
            group = group.commands[arg]


def test_depends_on_names_services_and_ports_match_the_api() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
    api = services["api"]
    port = api["command"][api["command"].index("--port") + 1]
    assert api["ports"] == [f"{port}:{port}"]
    assert re.search(r"postgresql\+psycopg://", api["environment"]["DRIFTLINE_DATABASE__URL"])


def test_kafka_is_reachable_where_the_services_look() -> None:
    services = _compose()["services"]
    advertised = services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    for name in ("api", "collector"):
        bootstrap = services[name]["environment"]["DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS"]
        assert f"PLAINTEXT://{bootstrap}" in advertised, f"{name} looks for Kafka at {bootstrap}"
    assert services["collector"]["environment"]["DRIFTLINE_COLLECTOR__METRICS_HOST"] == "0.0.0.0"
    assert "9102/readyz" in " ".join(services["collector"]["healthcheck"]["test"])


def test_dockerfile_copies_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("driftline", "collector", "detectors", "alerting", "dashboards"):
        assert f"COPY {package} ./{package}" in dockerfile


def test_every_driftline_container_shares_one_valid_secret_key() -> None:
    # Webhook secrets written by the api must be readable by the dispatcher in another container.
    values = set()
    for name, service in _compose()["services"].items():
        if service.get("image") == "driftline:local":
            assert "DRIFTLINE_SECRET_KEY" in service["environment"], name
            values.add(service["environment"]["DRIFTLINE_SECRET_KEY"])
    [value] = values
    default = re.fullmatch(r"\$\{DRIFTLINE_SECRET_KEY:-(.+)\}", value)
    assert default is not None
    SecretBox([default.group(1)])  # raises unless it is a Fernet key
