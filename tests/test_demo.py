"""`driftline demo` as a newcomer runs it: exit 0 within two minutes, the shifted features and
only those flagged, an alert fired, a verified webhook; and its report renders in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.model_server.data import SHIFTED_FEATURES
from tests.support.kafka import Broker, start_broker
from tests.test_report import CHROMIUM_FLAGS

DRIFTLINE = str(Path(sys.executable).parent / "driftline")
ROOT = Path(__file__).parents[1]


def _run_demo(tmp_path: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    environment.update(env or {})
    summary = tmp_path / "summary.json"
    started = time.monotonic()
    done = subprocess.run(
        [DRIFTLINE, "demo", "--directory", str(tmp_path / "demo"), "--summary-json", str(summary)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert took < 120, f"the demo took {took:.0f} s"
    assert "Features checked" in done.stdout and "signature verified" in done.stdout
    result: dict[str, object] = json.loads(summary.read_text())
    return result


def _check(summary: dict[str, object]) -> None:
    assert sorted(summary["drifted"]) == sorted(SHIFTED_FEATURES)  # type: ignore[call-overload]
    assert summary["normal_run_drifted"] == []
    assert summary["alert_state"] == "firing"
    assert summary["webhook_verified"] is True


def test_demo_flags_exactly_the_shifted_features_and_its_report_renders(tmp_path: Path) -> None:
    summary = _run_demo(tmp_path)
    _check(summary)
    assert summary["transport"] == "HTTP"
    performance = summary["performance"]
    assert isinstance(performance, dict) and performance["label_coverage"] == 1.0
    chromium = shutil.which("chromium")
    assert chromium, "Chromium is missing: `make test` installs it (apt-get install chromium)"
    report = Path(str(summary["report_file"]))
    dom = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path}/profile",
            "--virtual-time-budget=15000",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    rendered = re.sub(r"<script.*?</script>", "", dom, flags=re.S)
    assert "Mui" in rendered, "the report's JavaScript did not render"
    for feature in SHIFTED_FEATURES:
        assert feature in rendered
    assert "Drift is detected" in rendered or "Detected" in rendered


@pytest.fixture
def broker() -> Iterator[Broker]:
    started = start_broker()
    yield started
    started.stop()


def test_demo_through_kafka_and_the_collector(tmp_path: Path, broker: Broker) -> None:
    topic = broker.create_topic(partitions=2)
    summary = _run_demo(
        tmp_path,
        {
            "DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap,
            "DRIFTLINE_KAFKA__TOPIC": topic,
            "DRIFTLINE_KAFKA__GROUP_ID": f"demo-{topic}",
            "DRIFTLINE_KAFKA__SESSION_TIMEOUT_MS": "6000",
            "DRIFTLINE_KAFKA__HEARTBEAT_INTERVAL_MS": "1000",
        },
    )
    _check(summary)
    assert summary["transport"] == "Kafka + collector"
