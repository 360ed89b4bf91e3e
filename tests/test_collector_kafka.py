"""The collector as a process, against a real Kafka-protocol broker and a real PostgreSQL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaProducer
from sqlalchemy import func, select

from driftline.core.modelspec import ModelSpec
from driftline.core.settings import DatabaseSettings
from driftline.core.storage import Database, upgrade
from driftline.core.storage import tables as t
from driftline.registry.models import create_model
from tests.helpers import FRAUD_MODEL, prediction
from tests.support import postgres
from tests.support.kafka import Broker, start_broker
from tests.support.postgres import free_port

DRIFTLINE = str(Path(sys.executable).parent / "driftline")


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    started = start_broker()
    yield started
    started.stop()


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    """The session PostgreSQL, emptied, with the fraud model registered."""
    database = Database(DatabaseSettings(url=postgres_url))
    names = ", ".join(tb.name for tb in t.Base.metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    with database.write() as session:
        create_model(session, ModelSpec.model_validate(FRAUD_MODEL))
    yield database
    database.dispose()


class Collectors:
    """Starts `driftline collector` processes for one topic and group."""

    def __init__(self, broker: Broker, topic: str, database_url: str) -> None:
        self.topic, self.group = topic, f"group-{uuid.uuid4().hex[:8]}"
        self.broker, self.database_url = broker, database_url
        self.running: list[tuple[subprocess.Popen[str], int]] = []

    def start(self) -> tuple[subprocess.Popen[str], int]:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")} | {
            "DRIFTLINE_DATABASE__URL": self.database_url,
            "DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS": self.broker.bootstrap,
            "DRIFTLINE_KAFKA__TOPIC": self.topic,
            "DRIFTLINE_KAFKA__GROUP_ID": self.group,
            "DRIFTLINE_KAFKA__SESSION_TIMEOUT_MS": "6000",  # the test broker joins in ~half
            "DRIFTLINE_KAFKA__HEARTBEAT_INTERVAL_MS": "1000",
            "DRIFTLINE_COLLECTOR__METRICS_PORT": str(port),
            "DRIFTLINE_COLLECTOR__RETRY_BACKOFF_MAX_S": "2",
            "DRIFTLINE_LOG_LEVEL": os.environ.get("TEST_COLLECTOR_LOG", "WARNING"),
        }
        # A file, not a pipe: nobody reads a pipe while the test runs, and a full one would
        # block the collector's logging.
        self.log = Path(tempfile.mkstemp(prefix="collector-", suffix=".log")[1])
        with self.log.open("w") as out:
            process = subprocess.Popen(
                [DRIFTLINE, "collector"], env=env, text=True, stdout=out, stderr=subprocess.STDOUT
            )
        self.running.append((process, port))
        return process, port

    def output(self) -> str:
        return self.log.read_text()[-6000:]

    def stop_all(self) -> None:
        for process, _ in self.running:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def collectors(
    broker: Broker, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Collectors]]:
    made: list[Collectors] = []

    def make(topic: str, database_url: str) -> Collectors:
        made.append(Collectors(broker, topic, database_url))
        return made[-1]

    yield make
    for group in made:
        group.stop_all()


def _produce(broker: Broker, topic: str, values: list[bytes], partitions: int = 4) -> None:
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=5)
    for i, value in enumerate(values):
        producer.send(topic, value=value, partition=i % partitions)
    producer.flush(30)
    producer.close()


def _wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _count(database: Database, table: Any) -> int:
    try:
        with database.read() as session:
            return int(session.scalar(select(func.count()).select_from(table)) or 0)
    except Exception:
        return -1


def _event_ids(database: Database) -> list[str]:
    with database.read() as session:
        return list(session.scalars(select(t.PredictionEvent.event_id)))


def _metric(port: int, name: str, labels: str = "") -> float:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.TransportError:
        return -1.0  # not listening yet
    for line in text.splitlines():
        if line.startswith(name + (labels or " ")) or line.startswith(name + "{" + labels):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _status(port: int) -> int:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code
    except httpx.TransportError:
        return 0


def _terminate(process: subprocess.Popen[str], within: float = 20) -> None:
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    assert process.wait(timeout=within) == 0
    assert time.monotonic() - started < within


def test_malformed_messages_are_dead_lettered(
    broker: Broker, pg: Database, collectors: Callable[..., Collectors], postgres_url: str
) -> None:
    topic = broker.create_topic(partitions=4)
    values = [json.dumps(prediction(i)).encode() for i in range(997)]
    values[100:100] = [b"\x00not json"]
    values[500:500] = [json.dumps({"event_id": "e1", "model": "fraud"}).encode()]
    values[900:900] = [
        json.dumps(
            prediction(1, features={"blob": "x" * 1000, **{f"f{i}": "y" * 1000 for i in range(80)}})
        ).encode()
    ]
    _produce(broker, topic, values)
    group = collectors(topic, postgres_url)
    process, port = group.start()
    _wait_for(
        lambda: _count(pg, t.PredictionEvent) == 997 and _count(pg, t.DeadLetter) == 3,
        90,
        "997 events and 3 dead letters",
    )
    with pg.read() as session:
        letters = session.execute(
            select(
                t.DeadLetter.partition,
                t.DeadLetter.offset,
                t.DeadLetter.reason,
                t.DeadLetter.payload,
            )
        ).all()
    by_reason = {r.split(":")[0]: (p, o, payload) for p, o, r, payload in letters}
    assert by_reason["not JSON"][2] == b"\x00not json"
    assert (by_reason["not JSON"][0], by_reason["not JSON"][1]) == (100 % 4, 100 // 4)
    assert any("features: Field required" in r for _, _, r, _ in letters)
    assert any("at most 65536" in r for _, _, r, _ in letters)
    _terminate(process)


def test_replay_three_times_stores_once(
    broker: Broker, pg: Database, collectors: Callable[..., Collectors], postgres_url: str
) -> None:
    topic = broker.create_topic(partitions=4)
    values = [json.dumps(prediction(i)).encode() for i in range(1000)]
    _produce(broker, topic, values * 3)
    process, port = collectors(topic, postgres_url).start()
    _wait_for(
        lambda: (
            _metric(port, "driftline_collector_events_total", 'model="fraud",outcome="duplicate"')
            == 2000
        ),
        90,
        "2000 duplicates",
    )
    assert _count(pg, t.PredictionEvent) == 1000
    assert (
        _metric(port, "driftline_collector_events_total", 'model="fraud",outcome="stored"') == 1000
    )
    _terminate(process)


def test_sigkill_ten_times_loses_and_duplicates_nothing(
    broker: Broker, pg: Database, collectors: Callable[..., Collectors], postgres_url: str
) -> None:
    topic = broker.create_topic(partitions=4)
    events = [prediction(i) for i in range(20_000)]
    produced = threading.Thread(
        target=_produce, args=(broker, topic, [json.dumps(e).encode() for e in events])
    )
    group = collectors(topic, postgres_url)
    rng = random.Random(4)
    process, _ = group.start()
    produced.start()
    for _ in range(10):
        time.sleep(rng.uniform(1.0, 4.0))
        process.kill()
        process.wait()
        process, _ = group.start()
    produced.join()
    _wait_for(lambda: _count(pg, t.PredictionEvent) == 20_000, 180, "all 20,000 events")
    ids = _event_ids(pg)
    assert len(ids) == len(set(ids)) == 20_000
    assert set(ids) == {e["event_id"] for e in events}
    _terminate(process)


def test_database_outage_of_twenty_seconds(
    broker: Broker, collectors: Callable[..., Collectors]
) -> None:
    server = postgres.start()  # our own server: this test stops it
    try:
        server.create_database("outage")
        database = Database(DatabaseSettings(url=server.url("outage")))
        upgrade(database)
        with database.write() as session:
            create_model(session, ModelSpec.model_validate(FRAUD_MODEL))
        topic = broker.create_topic(partitions=4)
        group = collectors(topic, server.url("outage"))
        process, port = group.start()
        first = [prediction(i) for i in range(1000)]
        _produce(broker, topic, [json.dumps(e).encode() for e in first])
        _wait_for(lambda: _count(database, t.PredictionEvent) == 1000, 90, "the first 1000")
        server.pg_ctl("stop")  # refuses connections like a crash; see postgres.pg_ctl on "kill"
        second = [prediction(i) for i in range(1000)]
        _produce(broker, topic, [json.dumps(e).encode() for e in second])
        _wait_for(lambda: _status(port) == 503, 15, "readiness to turn false")
        time.sleep(20 - 3)
        assert process.poll() is None, "the collector crashed during the outage"
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 503
        server.pg_ctl("start")
        back = time.monotonic()
        _wait_for(
            lambda: _count(database, t.PredictionEvent) == 2000,
            30,
            "all events after the outage; collector log:\n" + group.output(),
        )
        assert time.monotonic() - back < 30
        assert _count(database, t.DeadLetter) == 0
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        assert _metric(port, "driftline_collector_database_retries_total") > 0
        _terminate(process)
        database.dispose()
    finally:
        postgres.stop(server)


def test_two_collectors_share_and_take_over(
    broker: Broker, pg: Database, collectors: Callable[..., Collectors], postgres_url: str
) -> None:
    topic = broker.create_topic(partitions=4)
    group = collectors(topic, postgres_url)
    first, first_port = group.start()
    second, second_port = group.start()
    batch = [prediction(i) for i in range(4000)]
    _produce(broker, topic, [json.dumps(e).encode() for e in batch[:2000]])
    _wait_for(lambda: _count(pg, t.PredictionEvent) == 2000, 90, "the first half")
    stored = [
        _metric(p, "driftline_collector_events_total", 'model="fraud",outcome="stored"')
        for p in (first_port, second_port)
    ]
    assert all(n > 0 for n in stored), f"one collector got no partitions: {stored}"
    first.kill()
    first.wait()
    _produce(broker, topic, [json.dumps(e).encode() for e in batch[2000:]])
    _wait_for(lambda: _count(pg, t.PredictionEvent) == 4000, 90, "the second half")
    assert set(_event_ids(pg)) == {e["event_id"] for e in batch}
    _terminate(second)
