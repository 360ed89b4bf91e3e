"""The Kafka examples of the docs, run against a real Kafka-protocol broker: README's two ways of
running the collector (`driftline collector`, `driftline up` with Kafka), both started as
written, and the gateway's producer of docs/integrations.md, whose events they must store."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka.errors import TopicAlreadyExistsError

from tests.support.docs import claimed_blocks, user_env
from tests.support.kafka import Broker, start_broker
from tests.support.keys import TEST_ADMIN_KEY
from tests.support.postgres import free_port

THIS = "tests/test_docs_kafka.py"
IRIS = {
    "name": "iris",
    "task": "multiclass_classification",
    "features": [
        {"name": n, "type": "numeric"}
        for n in ("sepal_length", "sepal_width", "petal_length", "petal_width")
    ],
}


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    started = start_broker()
    yield started
    started.stop()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-4000:]
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready in 60 s:\n{log.read_text()[-4000:]}")


def _stored_ids(api: str) -> set[str]:
    headers = {"Authorization": f"Bearer {TEST_ADMIN_KEY}"}
    page = httpx.get(f"{api}/v1/models/iris/events?limit=100", headers=headers).json()
    return {event["event_id"] for event in page["events"]}


def test_both_collector_commands_store_what_the_gateway_produces(
    broker: Broker, tmp_path: Path
) -> None:
    (commands,) = claimed_blocks("README.md", THIS, "bash")
    collector_line, up_line = [line for line in commands.splitlines() if line.strip()]
    assert collector_line.endswith("# one or more per group") and "driftline collector" in commands
    (gateway,) = claimed_blocks("docs/integrations.md", THIS, "python")
    # The README's topic is the default one; a fresh group, and short timeouts, because this
    # broker takes half the session timeout to form a group (see tests/support/kafka.py).
    with suppress(TopicAlreadyExistsError):  # on an external broker (DRIFTLINE_TEST_KAFKA_...)
        broker.create_topic(partitions=2, name="driftline.events")
    api_port, collector_port = free_port(), free_port()
    env = user_env(
        TEST_ADMIN_KEY,
        DRIFTLINE_BOOTSTRAP_ADMIN_KEY=TEST_ADMIN_KEY,
        DRIFTLINE_LOG_LEVEL="WARNING",
        DRIFTLINE_API__PORT=str(api_port),
        DRIFTLINE_COLLECTOR__METRICS_PORT=str(collector_port),
        DRIFTLINE_SCHEDULER__METRICS_PORT=str(free_port()),
        DRIFTLINE_KAFKA__GROUP_ID=f"docs-{api_port}",
        DRIFTLINE_KAFKA__SESSION_TIMEOUT_MS="6000",
        DRIFTLINE_KAFKA__HEARTBEAT_INTERVAL_MS="1000",
    )
    processes: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(line: str, name: str) -> tuple[subprocess.Popen[bytes], Path]:
        # bash runs a lone simple command in its own process (exec), so signals reach driftline.
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["bash", "-c", line.replace("broker:9092", broker.bootstrap)],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        processes.append((process, log))
        return process, log

    try:
        # `driftline up` first: it applies the migrations the collector checks for.
        up, up_log = start(up_line, "up")
        api = f"http://127.0.0.1:{api_port}"
        _wait_ready(f"{api}/readyz", up, up_log)
        collector, collector_log = start(collector_line, "collector")
        _wait_ready(f"http://127.0.0.1:{collector_port}/readyz", collector, collector_log)
        headers = {"Authorization": f"Bearer {TEST_ADMIN_KEY}"}
        httpx.post(f"{api}/v1/models", json=IRIS, headers=headers).raise_for_status()

        namespace: dict[str, Any] = {}
        exec(gateway.replace("kafka:9092", broker.bootstrap), namespace)
        expected = set()
        for n in range(8):  # several keys, so both partitions (and both collectors) get some
            request = {"instances": [[6.8, 2.8, 4.8, 1.4], [5.1, 3.5, 1.4, 0.2]]}
            namespace["log_exchange"](f"req-{n}", request, {"predictions": [1, 0]})
            expected |= {f"req-{n}:0", f"req-{n}:1"}
        namespace["producer"].flush(timeout=30)
        namespace["producer"].close()

        deadline = time.monotonic() + 90
        while (stored := _stored_ids(api)) != expected and time.monotonic() < deadline:
            time.sleep(0.5)
        assert stored == expected, collector_log.read_text()[-3000:] + up_log.read_text()[-3000:]
        one = httpx.get(f"{api}/v1/models/iris/events?limit=100", headers=headers).json()
        event = next(e for e in one["events"] if e["event_id"] == "req-0:1")
        assert event["features"]["sepal_length"] == 5.1 and event["prediction"] == "0"
    finally:
        for process, _ in reversed(processes):
            process.terminate()
        codes = [process.wait(timeout=60) for process, _ in processes]
    # SIGTERM: the collector finishes the batch in hand, commits it and leaves the group, a
    # clean exit; `driftline up` stops its scheduler and collector first, then exits 0 too.
    assert codes == [0, 0], [log.read_text()[-2000:] for _, log in processes]
