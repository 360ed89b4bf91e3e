"""``driftline demo``: the whole mission on the embedded default, in about a minute.

Starts Driftline (SQLite; the Kafka collector too when ``DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS`` is
set), the example retraining receiver and the example model server (``examples/``), registers
the model with its training data as reference, sends normal traffic, then shifted traffic, then
labels; the detectors flag the shifted features, an alert fires and the receiver gets a signed
webhook, which it verifies.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
from rich.console import Console

from driftline.access.keys import generate
from driftline.demo.processes import ProcessTree, free_port
from driftline.demo.scenario import Scenario
from driftline.demo.summary import DemoSummary, FeatureLine

__all__ = ["run_demo"]

MODEL = "credit-scoring"


def _repository() -> Path:
    for candidate in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (candidate / "examples" / "model_server").is_dir():
            return candidate
    raise SystemExit("driftline demo runs from a clone of the repository (it uses examples/)")


def _driftline_command() -> list[str]:
    script = Path(sys.executable).parent / "driftline"
    return [str(script)] if script.exists() else [sys.executable, "-m", "driftline.cli"]


def _sdk_kafka_env() -> dict[str, str]:
    """The SDK produces to the topic the collector consumes (the SDK's own variable name)."""
    topic = os.environ.get("DRIFTLINE_KAFKA__TOPIC")
    return {"DRIFTLINE_KAFKA_TOPIC": topic} if topic else {}


def run_demo(
    directory: Path, *, keep_running: bool, summary_json: Path | None, console: Console
) -> DemoSummary:
    began = time.monotonic()
    repository = _repository()
    sys.path.insert(0, str(repository))
    from examples.model_server.data import SHIFTED_FEATURES, applicants, default_label, model_schema

    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    tree = ProcessTree(directory, repository)
    admin_key = generate().plaintext
    kafka = os.environ.get("DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS")
    api_port, server_port, receiver_port = free_port(), free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    try:
        with console.status("starting Driftline", spinner="dots") as status:
            env = {
                "DRIFTLINE_DATABASE__URL": f"sqlite:///{directory / 'demo.db'}",
                "DRIFTLINE_BOOTSTRAP_ADMIN_KEY": admin_key,
                "DRIFTLINE_API__PUBLIC_URL": api,
                "DRIFTLINE_SCHEDULER__TICK_SECONDS": "5",
                "DRIFTLINE_ALERTING__EVALUATE_SECONDS": "1",
                "DRIFTLINE_ALERTING__GROUP_WAIT_S": "1",
                "DRIFTLINE_WEBHOOKS__ALLOWED_HOSTS": "127.0.0.1",
                "DRIFTLINE_LOG_LEVEL": "WARNING",
            }
            tree.start(
                "driftline",
                [*_driftline_command(), "up", "--port", str(api_port)],
                api_port,
                env,
                "/readyz",
            )
            console.log(f"Driftline is up at {api} ({'Kafka + collector' if kafka else 'HTTP'})")
            http = httpx.Client(
                base_url=api, timeout=60, headers={"Authorization": f"Bearer {admin_key}"}
            )
            ingest = Scenario._ok(
                http.post(
                    "/v1/keys",
                    json={"name": "demo model server", "scopes": ["ingest"], "models": [MODEL]},
                )
            )["key"]
            webhook = Scenario._ok(
                http.post(
                    "/v1/webhooks",
                    json={
                        "url": f"http://127.0.0.1:{receiver_port}/retrain",
                        "name": "retraining-job",
                    },
                )
            )
            status.update("starting the retraining receiver and the example model server")
            webhook_log = directory / "webhooks.jsonl"
            tree.start(
                "receiver",
                [
                    *tree.python("examples.retraining_receiver"),
                    "--port",
                    str(receiver_port),
                    "--log",
                    str(webhook_log),
                ],
                receiver_port,
                {"WEBHOOK_SECRET": webhook["secret"]},
                "/",
            )
            transport = f"kafka://{kafka}" if kafka else api
            server = tree.start(
                "model-server",
                [*tree.python("examples.model_server"), "--port", str(server_port)],
                server_port,
                {
                    "DRIFTLINE_TRANSPORT": transport,
                    "DRIFTLINE_API_KEY": ingest,
                    "MODEL_NAME": MODEL,
                    **_sdk_kafka_env(),
                },
                "/healthz",
            )
            console.log(f"model server trained and serving at {server.url}")
            scenario = Scenario(http, server.url, MODEL, status.update)
            status.update("registering the model and uploading its training data")
            scenario.register(model_schema(MODEL))
            console.log("model registered; training data uploaded as reference (5,000 rows)")
            normal_rows = applicants(1500, seed=11)
            normal = scenario.send(
                "normal traffic",
                normal_rows.to_dict("records"),
                default_label(normal_rows, seed=12).tolist(),
            )
            normal_run = scenario.detect(normal)
            console.log(
                f"normal traffic: {len(normal.event_ids):,} predictions, drifted: "
                f"{', '.join(normal_run['drifted_features']) or 'nothing'}"
            )
            shifted_rows = applicants(1500, seed=13, shift=True)
            truth = default_label(shifted_rows, seed=14).tolist()
            shifted = scenario.send("shifted traffic", shifted_rows.to_dict("records"), truth)
            status.update("labels arrive for the shifted traffic")
            scenario.label(shifted)
            runs = [scenario.detect(shifted) for _ in range(2)]  # the default rule: 2 of 3 runs
            run = runs[-1]
            console.log(
                f"shifted traffic: {len(shifted.event_ids):,} predictions, drifted: "
                f"{', '.join(run['drifted_features'])}"
            )
            status.update("waiting for the alert and the retraining webhook")
            alert = scenario.wait_alert("dataset_drift")
            seen = scenario.wait_webhook(webhook_log, datetime.fromisoformat(alert["firing_since"]))
            console.log(
                f"alert {alert['rule']} is {alert['state']}; the receiver verified the "
                f"signed webhook {seen.latency_s:.1f} s after it fired"
            )
            status.update("rendering the run's HTML report")
            report = directory / f"run-{run['id']}-report.html"
            report.write_bytes(http.get(f"/v1/runs/{run['id']}/report").content)
        summary = DemoSummary(
            transport="Kafka + collector" if kafka else "HTTP",
            normal_run_drifted=list(normal_run["drifted_features"] or []),
            features=[
                FeatureLine(
                    f["feature"],
                    f["feature"] in SHIFTED_FEATURES,
                    f["drifted"],
                    f["method"],
                    f["statistic"],
                    f["p_value"],
                    f["effect_size"],
                    f["psi"],
                )
                for f in run["features"]
                if f["segment"] is None and not f["is_prediction"]
            ],
            alert_rule=alert["rule"],
            alert_state=alert["state"],
            webhook_verified=True,  # the receiver logs only messages whose signature verified
            webhook_latency_s=seen.latency_s,
            performance=run.get("performance"),
            urls={
                "API docs": f"{api}/docs",
                "metrics": f"{api}/metrics",
                "run": f"{api}/v1/runs/{run['id']}",
                "HTML report": report.as_uri(),
                "API key (admin)": admin_key,
            },
            seconds=time.monotonic() - began,
            report_file=str(report),
        )
        summary.show(console)
        if summary_json is not None:
            summary.write_json(summary_json)
        if keep_running:
            console.print("[bold]Driftline keeps running; press Ctrl-C to stop.[/]")
            while tree.alive():
                time.sleep(1)
        return summary
    except KeyboardInterrupt:
        raise
    finally:
        tree.stop()
