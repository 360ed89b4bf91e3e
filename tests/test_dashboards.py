"""Dashboards as code and the Prometheus rules, checked statically (no Grafana can run here;
tests/test_observability_e2e.py runs every query against a real Prometheus)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dashboards.build import BUILDERS, check, expressions, render
from dashboards.promql import sel
from driftline.cli import app
from driftline.telemetry import RESULTS, catalogue, series_names
from tests.support.prometheus import promtool

ROOT = Path(__file__).parents[1]
RULES = ROOT / "prometheus" / "rules" / "driftline.rules.yml"
NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
KNOWN = {name for spec in catalogue() for name in series_names(spec)}


def _rules() -> list[dict[str, Any]]:
    loaded: dict[str, Any] = yaml.safe_load(RULES.read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def _metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', '""', expr)  # label values are not names
    return {n for n in NAME.findall(expr) if n.startswith("driftline_") or ":" in n}


def _boards() -> dict[str, dict[str, Any]]:
    return {name: json.loads(text) for name, text in render().items()}


def test_committed_dashboards_are_current_and_the_check_fails_on_stale_ones(
    tmp_path: Path,
) -> None:
    assert check(ROOT / "grafana" / "dashboards") == []
    runner = CliRunner()
    assert runner.invoke(app, ["dashboards", "build", "--out", str(tmp_path)]).exit_code == 0
    assert sorted(p.name for p in tmp_path.glob("*.json")) == sorted(render())
    stale = tmp_path / "driftline-overview.json"
    stale.write_text(stale.read_text().replace("Models drifting", "Models drfiting"))
    result = runner.invoke(app, ["dashboards", "build", "--check", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "driftline-overview.json differs" in result.output


def test_every_query_names_only_catalogued_or_recorded_metrics() -> None:
    recorded = {rule["record"] for rule in _rules() if "record" in rule}
    sources = [(t, e) for board in _boards().values() for t, e in expressions(board)]
    sources += [(r.get("alert") or r["record"], r["expr"]) for r in _rules()]
    for source, expr in sources:
        for name in _metric_names(expr):
            assert name in KNOWN or name in recorded, f"{source}: {name} does not exist"


def test_promql_helpers_reject_unknown_labels_and_series() -> None:
    assert sel(RESULTS.DRIFT_SHARE, model="m") == 'driftline_dataset_drift_share{model="m"}'
    with pytest.raises(KeyError, match="no label feature"):
        sel(RESULTS.DRIFT_SHARE, feature="amount")
    with pytest.raises(KeyError):
        sel(RESULTS.DRIFT_SHARE, "bucket")


def test_the_three_dashboards_have_their_panels_and_typed_queries() -> None:
    boards = _boards()
    assert set(boards) == {f"{uid}.json" for uid in BUILDERS}
    titles = {
        name: {p["title"] for p in board["panels"] if p["type"] != "row"}
        for name, board in boards.items()
    }
    assert {"Models", "Models drifting", "Critical alerts firing", "Stale monitors"} <= titles[
        "driftline-overview.json"
    ]
    assert {
        "Drifted features",
        "Drift statistics",
        "Prediction drift",
        "Performance",
        "Label coverage",
        "Data quality",
        "Latest run",
    } <= titles["driftline-model-detail.json"]
    assert {
        "Events stored / s",
        "Dead letters / s by reason",
        "Consumer lag by partition",
        "Batch write latency",
        "Run duration",
        "Webhook outcomes / s",
    } <= titles["driftline-pipeline.json"]
    detail = boards["driftline-model-detail.json"]
    assert {v["name"] for v in detail["templating"]["list"]} >= {"model", "version"}
    for board in boards.values():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                assert target["refId"] and target["datasource"]["type"] == "prometheus"
                if "$model" in target["expr"]:
                    assert "$version" in target["expr"], target["expr"]


def test_every_alert_has_for_severity_and_a_runbook_section() -> None:
    runbook = (ROOT / "docs" / "runbook.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in runbook.splitlines()
        if line.startswith("## ")
    }
    alerts = [rule for rule in _rules() if "alert" in rule]
    assert len(alerts) == 6
    for rule in alerts:
        assert rule["for"] and rule["labels"]["severity"] in ("info", "warning", "critical")
        url = rule["annotations"]["runbook_url"]
        assert url.startswith("docs/runbook.md#"), url
        assert url.split("#")[1] in anchors, f"{rule['alert']}: no section {url} in the runbook"


def test_docs_list_every_metric_and_every_panel() -> None:
    metrics_doc = (ROOT / "docs" / "metrics.md").read_text()
    for spec in catalogue():
        assert f"`{spec.name}`" in metrics_doc, f"docs/metrics.md misses {spec.name}"
    dashboards_doc = (ROOT / "docs" / "dashboards.md").read_text()
    for board in _boards().values():
        for panel in board["panels"]:
            if panel["type"] != "row":
                assert f"| {panel['title']} |" in dashboards_doc, panel["title"]
                for target in panel["targets"]:  # the documented query is the real one
                    assert f"`{target['expr']}`" in dashboards_doc, target["expr"]


@pytest.mark.parametrize(
    "args",
    [
        ["check", "config", "prometheus/prometheus.yml"],
        ["check", "rules", "prometheus/rules/driftline.rules.yml"],
        ["test", "rules", "prometheus/rules/driftline.rules.test.yml"],
    ],
)
def test_promtool_accepts_the_config_and_the_rules_pass_their_unit_tests(args: list[str]) -> None:
    done = subprocess.run([promtool(), *args], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr
