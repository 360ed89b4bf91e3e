"""The collector loop with the in-memory consumer, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from collector.consumer import InMemoryConsumer, Partition
from collector.loop import Collector
from collector.metrics import CollectorMetrics
from driftline.core.modelspec import ModelSpec
from driftline.core.settings import DatabaseSettings, Settings
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.registry.models import create_model
from tests.helpers import FRAUD_MODEL, prediction

TOPIC = "driftline.events"


class FlakyDatabase(Database):
    """Fails the next ``failures`` write transactions the way a down server does."""

    failures = 0

    @contextmanager
    def write(self) -> Iterator[Session]:
        if self.failures > 0:
            self.failures -= 1
            raise OperationalError("INSERT", {}, ConnectionRefusedError("server is down"))
        with super().write() as session:
            yield session


@pytest.fixture
def flaky(database_url: str, database: Database) -> Iterator[FlakyDatabase]:
    with database.write() as session:
        create_model(session, ModelSpec.model_validate(FRAUD_MODEL))
    flaky = FlakyDatabase(DatabaseSettings(url=database_url))
    yield flaky
    flaky.dispose()


def _collector(db: Database, consumer: InMemoryConsumer) -> tuple[Collector, CollectorRegistry]:
    registry = CollectorRegistry()
    settings = Settings()
    settings.collector.retry_backoff_max_s = 0.2
    collector = Collector(db, CollectorMetrics(registry), settings)
    collector.consumer = consumer
    consumer.on_revoked = collector.on_revoked
    return collector, registry


def _drain(collector: Collector, consumer: InMemoryConsumer) -> None:
    for _ in range(100):
        before = dict(consumer.committed)
        collector.step()
        if consumer.committed == before and all(
            consumer.committed.get(tp, 0) == len(log) for tp, log in consumer.logs.items()
        ):
            return


def _count(db: Database, table: Any) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _messages(n: int) -> list[bytes]:
    return [json.dumps(prediction(i)).encode() for i in range(n)]


def test_three_malformed_among_a_thousand(flaky: FlakyDatabase) -> None:
    consumer = InMemoryConsumer(TOPIC, 4)
    good = _messages(997)
    for p in range(4):
        consumer.produce(p, good[p::4])
    consumer.produce(1, [b"{not json"])
    consumer.produce(2, [json.dumps({"event_id": "x", "model": "fraud"}).encode()])
    consumer.produce(3, [b"x" * (2 * 1024 * 1024)])
    collector, registry = _collector(flaky, consumer)
    _drain(collector, consumer)
    assert _count(flaky, t.PredictionEvent) == 997
    with flaky.read() as session:
        letters = session.execute(
            select(t.DeadLetter.partition, t.DeadLetter.offset, t.DeadLetter.reason)
        ).all()
    assert sorted((p, o) for p, o, _ in letters) == [(p, len(good[p::4])) for p in (1, 2, 3)]
    reasons = {p: r for p, _, r in letters}
    assert reasons[1].startswith("not JSON")
    assert "features: Field required" in reasons[2]
    assert "at most 1048576 are read" in reasons[3]
    assert consumer.committed == {
        Partition(TOPIC, p): len(consumer.logs[Partition(TOPIC, p)]) for p in range(4)
    }
    assert (
        registry.get_sample_value("driftline_collector_dead_letters_total", {"reason": "too_large"})
        == 1
    )


def test_replay_three_times_stores_once(flaky: FlakyDatabase) -> None:
    messages = _messages(1000)
    collector, registry = None, None
    for _ in range(3):
        consumer = InMemoryConsumer(TOPIC, 2)  # a fresh group: everything is read again
        consumer.produce(0, messages[:500])
        consumer.produce(1, messages[500:])
        if collector is None:
            collector, registry = _collector(flaky, consumer)
        collector.consumer = consumer
        _drain(collector, consumer)
    assert registry is not None
    assert _count(flaky, t.PredictionEvent) == 1000
    duplicates = registry.get_sample_value(
        "driftline_collector_events_total", {"model": "fraud", "outcome": "duplicate"}
    )
    assert duplicates == 2000


def test_envelopes_and_labels_before_predictions(flaky: FlakyDatabase) -> None:
    events = [prediction(i) for i in range(5)]
    label = {"type": "label", "event_id": events[0]["event_id"], "model": "fraud", "label": "1"}
    envelope = {"schema_version": 1, "events": [label, *events[1:], {"event_id": "bad"}]}
    consumer = InMemoryConsumer(TOPIC, 1)
    consumer.produce(0, [json.dumps(envelope).encode(), json.dumps(events[0]).encode()])
    collector, _ = _collector(flaky, consumer)
    _drain(collector, consumer)
    assert _count(flaky, t.PredictionEvent) == 5 and _count(flaky, t.Label) == 1
    with flaky.read() as session:
        letter = session.scalars(select(t.DeadLetter)).one()
    assert letter.offset == 0 and letter.reason.startswith("event 5 of the envelope")


def test_a_time_out_of_range_in_utc_is_a_dead_letter_not_a_crash(flaky: FlakyDatabase) -> None:
    """0001-01-01T00:30+01:00 parses but is before year 1 in UTC: it used to raise OverflowError
    out of the decoder, so the batch was never committed and every restart crashed on it."""
    bad = prediction(0, event_time="0001-01-01T00:30:00+01:00")
    envelope = {"schema_version": 1, "events": [prediction(1), bad, prediction(2)]}
    consumer = InMemoryConsumer(TOPIC, 1)
    consumer.produce(0, [json.dumps(envelope).encode(), json.dumps(bad).encode(), *_messages(3)])
    collector, _ = _collector(flaky, consumer)
    _drain(collector, consumer)
    assert _count(flaky, t.PredictionEvent) == 5
    with flaky.read() as session:
        reasons = sorted(session.scalars(select(t.DeadLetter.reason)))
    assert len(reasons) == 2 and all("out of range once converted to UTC" in r for r in reasons)


def test_unknown_model_is_dead_lettered_not_retried(flaky: FlakyDatabase) -> None:
    consumer = InMemoryConsumer(TOPIC, 1)
    consumer.produce(0, [json.dumps(prediction(0, model="ghost")).encode(), *_messages(3)])
    collector, registry = _collector(flaky, consumer)
    _drain(collector, consumer)
    assert _count(flaky, t.PredictionEvent) == 3
    assert (
        registry.get_sample_value(
            "driftline_collector_dead_letters_total", {"reason": "unknown_model"}
        )
        == 1
    )


def test_an_event_older_than_retention_is_dead_lettered_with_its_reason(
    flaky: FlakyDatabase,
) -> None:
    with flaky.write() as session:
        horizon = datetime.now(UTC) - timedelta(days=30)  # as a retention pass leaves it
        session.add(t.RawEventHorizon(id=1, forgotten_before=horizon))
    old = prediction(0, event_time=(datetime.now(UTC) - timedelta(days=40)).isoformat())
    consumer = InMemoryConsumer(TOPIC, 1)
    consumer.produce(0, [json.dumps(old).encode(), *_messages(3)])
    collector, registry = _collector(flaky, consumer)
    _drain(collector, consumer)
    assert _count(flaky, t.PredictionEvent) == 3
    with flaky.read() as session:
        letter = session.scalars(select(t.DeadLetter)).one()
    assert letter.offset == 0 and "removed by retention" in letter.reason
    assert (
        registry.get_sample_value(
            "driftline_collector_dead_letters_total", {"reason": "past_retention"}
        )
        == 1
    )


def test_database_down_pauses_keeps_polling_and_loses_nothing(flaky: FlakyDatabase) -> None:
    consumer = InMemoryConsumer(TOPIC, 2)
    consumer.produce(0, _messages(100))
    collector, registry = _collector(flaky, consumer)
    flaky.failures = 4
    consumer.produce(1, _messages(50))
    collector.step()  # fails 4 times, waits with partitions paused, then writes
    assert _count(flaky, t.PredictionEvent) == 150
    assert _count(flaky, t.DeadLetter) == 0
    assert consumer.polls > 4 and consumer.paused == set()
    assert registry.get_sample_value("driftline_collector_database_retries_total") == 4
    assert collector.ready
    assert consumer.committed == {Partition(TOPIC, 0): 100, Partition(TOPIC, 1): 50}


def test_partition_revoked_during_outage_is_abandoned_not_committed(flaky: FlakyDatabase) -> None:
    consumer = InMemoryConsumer(TOPIC, 2)
    consumer.produce(0, _messages(10))
    consumer.produce(1, _messages(10))
    collector, _ = _collector(flaky, consumer)
    flaky.failures = 2
    original_poll = consumer.poll

    def poll_with_rebalance(timeout_ms: int = 0, max_records: int | None = None) -> Any:
        if flaky.failures == 1 and Partition(TOPIC, 1) in consumer.owned:
            consumer.revoke({Partition(TOPIC, 1)})
        return original_poll(timeout_ms, max_records)

    consumer.poll = poll_with_rebalance  # type: ignore[method-assign]
    collector.step()
    assert consumer.committed == {Partition(TOPIC, 0): 10}
    assert _count(flaky, t.PredictionEvent) == 10  # partition 1's records left for its new owner


def test_stop_during_outage_commits_nothing(flaky: FlakyDatabase) -> None:
    consumer = InMemoryConsumer(TOPIC, 1)
    consumer.produce(0, _messages(10))
    collector, _ = _collector(flaky, consumer)
    flaky.failures = 1000
    original_poll = consumer.poll

    def poll_then_stop(timeout_ms: int = 0, max_records: int | None = None) -> Any:
        if consumer.polls >= 3:
            collector.stop()
        return original_poll(timeout_ms, max_records)

    consumer.poll = poll_then_stop  # type: ignore[method-assign]
    collector.run()
    assert consumer.committed == {} and consumer.closed
    assert not collector.ready


def test_refuses_auto_commit() -> None:
    from collector.consumer import kafka_consumer

    settings = Settings()
    settings.kafka.enable_auto_commit = True
    with pytest.raises(ValueError, match="refuses to start"):
        kafka_consumer(settings.kafka, lambda revoked: None)


def test_rebalance_during_outage_keeps_new_records_and_resumes(flaky: FlakyDatabase) -> None:
    """Revoked and re-assigned inside one poll: records that poll returns must be kept (their
    position moved past them) and every partition must be resumed afterwards."""
    consumer = InMemoryConsumer(TOPIC, 2)
    consumer.produce(0, _messages(10))
    collector, _ = _collector(flaky, consumer)
    flaky.failures = 2
    original_poll = consumer.poll
    rebalanced: list[bool] = []

    def poll_with_rebalance(timeout_ms: int = 0, max_records: int | None = None) -> Any:
        if flaky.failures == 1 and not rebalanced:
            rebalanced.append(True)
            everything = set(consumer.owned)
            consumer.revoke(everything)
            consumer.assign(everything)
            consumer.paused -= everything  # a fresh assignment is not paused
            consumer.produce(1, _messages(5))
        return original_poll(timeout_ms, max_records)

    consumer.poll = poll_with_rebalance  # type: ignore[method-assign]
    collector.step()
    _drain(collector, consumer)
    assert rebalanced and consumer.paused == set()
    assert _count(flaky, t.PredictionEvent) == 15
    assert consumer.committed == {Partition(TOPIC, 0): 10, Partition(TOPIC, 1): 5}


def _run_until_committed(collector: Collector, consumer: InMemoryConsumer) -> None:
    running = threading.Thread(target=collector.run)
    running.start()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and any(
            consumer.committed.get(tp, 0) < len(log) for tp, log in consumer.logs.items()
        ):
            time.sleep(0.02)
    finally:
        collector.stop()
        running.join(30)
    assert not running.is_alive() and consumer.closed


def test_run_writes_one_batch_while_decoding_the_next(flaky: FlakyDatabase) -> None:
    consumer = InMemoryConsumer(TOPIC, 4)
    messages = _messages(2000)
    for p in range(4):
        consumer.produce(p, messages[p::4])
    collector, registry = _collector(flaky, consumer)
    collector._kafka.max_poll_records = 100  # twenty batches through the pipeline
    _run_until_committed(collector, consumer)
    assert _count(flaky, t.PredictionEvent) == 2000
    assert consumer.committed == {Partition(TOPIC, p): 500 for p in range(4)}
    stored = registry.get_sample_value(
        "driftline_collector_events_total", {"model": "fraud", "outcome": "stored"}
    )
    assert stored == 2000


def test_run_recovers_from_an_outage_in_the_pipeline(flaky: FlakyDatabase) -> None:
    consumer = InMemoryConsumer(TOPIC, 2)
    messages = _messages(600)
    consumer.produce(0, messages[:300])
    consumer.produce(1, messages[300:])
    collector, registry = _collector(flaky, consumer)
    collector._kafka.max_poll_records = 50
    flaky.failures = 3  # the first batch handed to the writer fails, then the retries do
    _run_until_committed(collector, consumer)
    assert _count(flaky, t.PredictionEvent) == 600 and _count(flaky, t.DeadLetter) == 0
    assert consumer.committed == {Partition(TOPIC, 0): 300, Partition(TOPIC, 1): 300}
    assert registry.get_sample_value("driftline_collector_database_retries_total") == 2
    assert consumer.paused == set()
