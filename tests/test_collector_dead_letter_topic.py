"""Dead letters copied to a Kafka topic: on the real test broker, and when the copy fails."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaTimeoutError
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from collector.consumer import InMemoryConsumer, Partition
from collector.dead_letter_topic import DeadLetterTopic
from collector.loop import Collector
from collector.metrics import CollectorMetrics
from collector.run import build
from driftline.core.modelspec import ModelSpec
from driftline.core.settings import DatabaseSettings, Settings
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.registry.models import create_model
from tests.helpers import FRAUD_MODEL, prediction
from tests.support.kafka import Broker, start_broker

BAD = [
    b"{not json",
    json.dumps({"schema_version": 1, "events": [prediction(0), {"event_id": "x1"}]}).encode(),
    json.dumps(prediction(1, model="ghost")).encode(),
]


@pytest.fixture
def fraud_db(database: Database) -> Database:
    with database.write() as session:
        create_model(session, ModelSpec.model_validate(FRAUD_MODEL))
    return database


def _letters(database: Database) -> dict[int, tuple[str, bytes]]:
    with database.read() as session:
        rows = session.execute(
            select(t.DeadLetter.offset, t.DeadLetter.reason, t.DeadLetter.payload)
        )
        return {offset: (reason, payload) for offset, reason, payload in rows}


@pytest.fixture
def pg_fraud(postgres_url: str) -> Iterator[Database]:
    """The session PostgreSQL, emptied, with the fraud model (the broker test runs once)."""
    database = Database(DatabaseSettings(url=postgres_url))
    names = ", ".join(tb.name for tb in t.Base.metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    with database.write() as session:
        create_model(session, ModelSpec.model_validate(FRAUD_MODEL))
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    started = start_broker()
    yield started
    started.stop()


def test_dead_letters_reach_the_topic_with_reason_and_source(
    broker: Broker, pg_fraud: Database, postgres_url: str
) -> None:
    fraud_db = pg_fraud
    source, copies = broker.create_topic(partitions=1), broker.create_topic(partitions=1)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for value in [json.dumps(prediction(2)).encode(), *BAD]:
        producer.send(source, value=value, partition=0)
    producer.flush(30)
    producer.close()
    settings = Settings(database=DatabaseSettings(url=postgres_url))
    settings.kafka.bootstrap_servers = broker.bootstrap
    settings.kafka.topic = source
    settings.kafka.group_id = f"dl-{uuid.uuid4().hex[:8]}"
    settings.kafka.session_timeout_ms, settings.kafka.heartbeat_interval_ms = 6000, 1000
    settings.kafka.dead_letter_topic = copies
    registry = CollectorRegistry()
    collector = build(settings, fraud_db, registry)
    running = threading.Thread(target=collector.run)
    running.start()
    try:
        deadline = time.monotonic() + 60
        while len(_letters(fraud_db)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        collector.stop()
        running.join(30)
        assert collector.dead_letter_topic is not None
        collector.dead_letter_topic.close()
    stored = _letters(fraud_db)
    assert sorted(stored) == [1, 2, 3]
    reader = KafkaConsumer(bootstrap_servers=broker.bootstrap, consumer_timeout_ms=10_000)
    reader.assign([TopicPartition(copies, 0)])
    reader.seek_to_beginning()
    received = [reader.__next__() for _ in range(3)]
    reader.close()
    for record in received:
        headers = {name: value.decode() for name, value in record.headers}
        offset = int(headers["source_offset"])
        assert headers["source_topic"] == source and headers["source_partition"] == "0"
        assert (headers["reason"], record.value) == stored[offset]
        assert record.key == f"{source}/0/{offset}".encode()
    categories = {int(dict(r.headers)["source_offset"]): dict(r.headers) for r in received}
    assert categories[1]["category"] == b"not_json"
    assert categories[3]["category"] == b"unknown_model" and categories[3]["model"] == b"ghost"
    assert registry.get_sample_value("driftline_collector_dead_letter_topic_failures_total") == 0


class _Future:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def get(self, timeout: float) -> None:
        if self.error:
            raise self.error


class _Producer:
    """Refuses every send (``at_send``) or fails every delivery."""

    def __init__(self, at_send: bool) -> None:
        self.at_send = at_send
        self.sent: list[dict[str, Any]] = []

    def send(self, topic: str, **message: Any) -> _Future:
        if self.at_send:
            raise KafkaTimeoutError("Failed to update metadata after 10.0 secs.")
        self.sent.append(message)
        return _Future(KafkaTimeoutError("Batch expired"))


@pytest.mark.parametrize("at_send", [True, False])
def test_a_failed_copy_neither_loses_nor_blocks(fraud_db: Database, at_send: bool) -> None:
    consumer = InMemoryConsumer("events", 1)
    consumer.produce(0, [*BAD, json.dumps(prediction(3)).encode()])
    registry = CollectorRegistry()
    collector = Collector(fraud_db, CollectorMetrics(registry), Settings())
    collector.consumer = consumer
    collector.dead_letter_topic = DeadLetterTopic(_Producer(at_send), "dead", 65536)
    collector.step()
    assert sorted(_letters(fraud_db)) == [0, 1, 2]  # the table has them all
    assert consumer.committed == {Partition("events", 0): 4}  # and consumption moved on
    failures = registry.get_sample_value("driftline_collector_dead_letter_topic_failures_total")
    assert failures == 3
