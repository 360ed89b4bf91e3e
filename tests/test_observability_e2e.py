"""Acceptance: a real Prometheus scrapes a running `driftline up` (with the Kafka collector) fed
with drifting traffic, and every PromQL expression of the generated dashboards and of the rules
file returns data for the test model.

Grafana cannot run here, so the dashboards' queries are checked where they would run: against
Prometheus's HTTP API, with the dashboard variables filled in as Grafana would.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from kafka import KafkaProducer

from dashboards.build import expressions, render
from tests.support.drifting import MODEL, events, register, send_labels
from tests.support.kafka import Broker, start_broker
from tests.support.prometheus import Prometheus, start_prometheus
from tests.support.service import LiveService, start_service

ROOT = Path(__file__).parents[1]
RULES = ROOT / "prometheus" / "rules" / "driftline.rules.yml"
# Grafana's $__rate_interval, wide enough to cover everything the test sent.
VARIABLES = {"$model": MODEL, "$version": "1", "$__rate_interval": "5m"}
COMPARISON = re.compile(r"(==|!=|>=|<=|>|<)\s*(?=-?\d)")


@dataclass
class Stack:
    broker: Broker
    service: LiveService
    prometheus: Prometheus


def _config(service: LiveService) -> str:
    return yaml.safe_dump(
        {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [
                {
                    "job_name": "driftline",
                    "authorization": {"type": "Bearer", "credentials": service.api_key},
                    "static_configs": [{"targets": [f"127.0.0.1:{service.port}"]}],
                }
            ],
        }
    )


def _wait(prometheus: Prometheus, expr: str, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if prometheus.query(expr):
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} ({expr}) never showed in Prometheus:\n{prometheus.log()}")


def _feed(stack: Stack, topic: str) -> None:
    api = httpx.Client(base_url=stack.service.url, headers=stack.service.headers, timeout=60)
    register(api)
    created = api.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/retrain", "name": "retrain"}
    )
    assert created.status_code == 201, created.text
    batch = events(600)
    assert api.post("/v1/events", json={"events": batch[:500]}).json()["accepted"] == 500
    producer = KafkaProducer(bootstrap_servers=stack.broker.bootstrap)
    for event in batch[500:]:
        producer.send(topic, json.dumps(event).encode())
    producer.send(topic, b"not json")  # a dead letter
    producer.flush()
    producer.close()
    send_labels(api, batch[:500])
    _wait(stack.prometheus, f'driftline_events_stored_total{{model="{MODEL}"}} == 600', "events")
    run = api.post(f"/v1/models/{MODEL}/detect", json={}).json()
    assert run["status"] == "ok" and run["dataset_drift"], run
    api.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("observability")
    broker = start_broker()
    topic = broker.create_topic(partitions=2)
    service = start_service(
        directory,
        env={
            "DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap,
            "DRIFTLINE_KAFKA__TOPIC": topic,
            "DRIFTLINE_KAFKA__GROUP_ID": f"observability-{uuid.uuid4().hex[:8]}",
            "DRIFTLINE_KAFKA__SESSION_TIMEOUT_MS": "6000",  # the test broker joins in ~half
            "DRIFTLINE_KAFKA__HEARTBEAT_INTERVAL_MS": "1000",
            "DRIFTLINE_SCHEDULER__TICK_SECONDS": "1",
            "DRIFTLINE_WEBHOOKS__ALLOWED_HOSTS": "127.0.0.1",
        },
    )
    prometheus = start_prometheus(directory / "prometheus", _config(service))
    stack = Stack(broker, service, prometheus)
    try:
        _wait(prometheus, 'up{job="driftline"} == 1', "the driftline target")
        _feed(stack, topic)
        for expr, what in [
            (f'driftline_last_run_id{{model="{MODEL}"}}', "the latest run"),
            ("driftline_collector_batch_write_seconds_count > 0", "a collector batch"),
            ('driftline_collector_dead_letters_total{reason="not_json"} > 0', "a dead letter"),
            ("driftline_scheduler_run_duration_seconds_count > 0", "a scheduled run"),
            ('driftline_webhook_deliveries_pending{endpoint="retrain"}', "the endpoint"),
            ("model_version:driftline_dataset_drift_share:max", "the recording rules"),
        ]:
            _wait(prometheus, expr, what)
        time.sleep(3)  # a few more scrapes, so every rate() has samples after the traffic
        yield stack
    finally:
        prometheus.stop()
        service.stop()
        broker.stop()


def _check(prometheus: Prometheus, source: str, expr: str) -> None:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    match = re.fullmatch(r"label_values\((.+), (\w+)\)", expr)
    if match:  # a Grafana variable query: the label's values must include the model's
        expr, label = match.groups()
        values = {s["metric"].get(label) for s in prometheus.query(expr)}
        assert values & {MODEL, "1"}, f"{source}: {expr} has no {label} for {MODEL}"
        return
    result = prometheus.query(expr)
    assert result, f"{source}: `{expr}` returned nothing"
    numbers = [float(sample["value"][1]) for sample in result]
    assert any(math.isfinite(n) for n in numbers), f"{source}: `{expr}` gave only {numbers}"
    models = {sample["metric"].get("model") for sample in result} - {None}
    assert not models or MODEL in models, f"{source}: `{expr}` has no series of {MODEL}"


def test_every_dashboard_query_returns_data_for_the_model(stack: Stack) -> None:
    checked = 0
    for name, text in render().items():
        for title, expr in expressions(json.loads(text)):
            _check(stack.prometheus, f"{name} / {title}", expr)
            checked += 1
    assert checked >= 40


def _rules() -> list[dict[str, Any]]:
    loaded: dict[str, Any] = yaml.safe_load(RULES.read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def test_every_rule_expression_returns_data_and_prometheus_loaded_them(stack: Stack) -> None:
    for rule in _rules():
        expr = rule["expr"]
        if "alert" in rule:  # the quantity behind the alert: `x > 5` becomes `x > bool 5`
            expr = COMPARISON.sub(lambda m: f"{m.group(1)} bool ", expr)
        _check(stack.prometheus, rule.get("alert") or rule["record"], expr)
    loaded = stack.prometheus.rules()
    assert len(loaded) == len(_rules())
    assert all(rule["health"] == "ok" for rule in loaded), loaded


def test_the_drift_alerts_hold_for_the_drifting_model(stack: Stack) -> None:
    for rule in _rules():
        if rule.get("alert") in ("DriftlineDriftShareHigh", "DriftlineKeyFeatureDrifted"):
            result = stack.prometheus.query(rule["expr"])
            assert {s["metric"]["model"] for s in result} == {MODEL}, rule["alert"]
            if rule["alert"] == "DriftlineKeyFeatureDrifted":
                assert {s["metric"]["feature"] for s in result} == {"income"}


def test_one_target_serves_results_collector_and_scheduler_metrics(stack: Stack) -> None:
    for metric in (
        "driftline_dataset_drift_share",
        "driftline_collector_up",
        "driftline_scheduler_up",
    ):
        jobs = {s["metric"]["job"] for s in stack.prometheus.query(metric)}
        assert jobs == {"driftline"}, metric
