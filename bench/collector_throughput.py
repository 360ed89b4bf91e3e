"""Collector throughput, broker to database, against a consume loop that does nothing.

    .venv/bin/python bench/collector_throughput.py [--events 500000]

Events have 20 features and travel as the SDK sends them (envelopes of 100 events per Kafka
message) on a 4-partition topic of the tansu broker. Starts its own broker and PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

import httpx
import psycopg
from kafka import KafkaConsumer, KafkaProducer
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from collector import loop as collector_loop
from collector.run import build
from driftline.core.modelspec import ModelSpec
from driftline.core.settings import DatabaseSettings, Settings
from driftline.core.storage import Database, upgrade
from driftline.core.storage import tables as t
from driftline.registry.models import create_model
from tests.support import postgres
from tests.support.kafka import Broker, start_broker

MODEL = {
    "name": "bench",
    "task": "binary_classification",
    "features": [{"name": f"n{i}", "type": "numeric"} for i in range(14)]
    + [{"name": f"c{i}", "type": "categorical"} for i in range(6)],
}


def produce(broker: Broker, topic: str, events: int) -> None:
    producer = KafkaProducer(
        bootstrap_servers=broker.bootstrap,
        linger_ms=20,
        compression_type="lz4",
        max_request_size=4 * 1024 * 1024,
    )
    for start in range(0, events, 100):
        batch = [
            {
                "schema_version": 1,
                "type": "prediction",
                "event_id": str(uuid.uuid4()),
                "model": "bench",
                "event_time": "2026-11-21T10:00:00Z",
                "features": {
                    **{f"n{i}": i * 1.5 + start % 7 for i in range(14)},
                    **{f"c{i}": f"v{(start + i) % 9}" for i in range(6)},
                },
                "prediction": str(start % 2),
            }
            for _ in range(min(100, events - start))
        ]
        value = json.dumps({"schema_version": 1, "events": batch}).encode()
        producer.send(topic, value=value, partition=(start // 100) % 4)
    producer.flush(120)
    producer.close()


def ceiling(broker: Broker, topic: str, events: int) -> float:
    """A kafka-python group consumer that only counts events: the most any collector gets."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=broker.bootstrap,
        group_id=f"ceiling-{uuid.uuid4().hex[:6]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        max_poll_records=500,
    )
    seen = 0
    started = None
    while seen < events:
        for records in consumer.poll(timeout_ms=1000).values():
            started = started or time.perf_counter()
            for record in records:
                seen += record.value.count(b'"event_id"')
    assert started is not None
    rate = events / (time.perf_counter() - started)
    consumer.close()
    return rate


def settings_for(broker: Broker, topic: str, url: str) -> Settings:
    settings = Settings()
    settings.database.url = url
    settings.kafka.bootstrap_servers = broker.bootstrap
    settings.kafka.topic = topic
    settings.kafka.group_id = f"bench-{uuid.uuid4().hex[:6]}"
    settings.kafka.session_timeout_ms = 6000
    settings.kafka.heartbeat_interval_ms = 1000
    return settings


def count(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(t.PredictionEvent)) or 0)


def in_process(broker: Broker, topic: str, url: str, events: int) -> dict[str, float]:
    """One collector in this process, with decode and write timed separately."""
    database = Database(DatabaseSettings(url=url))
    collector = build(settings_for(broker, topic, url), database, CollectorRegistry())
    spent = {"decode": 0.0, "write": 0.0}
    real_decode, real_write = collector._decode, collector_loop.write_batch

    def timed_decode(pending: Any) -> Any:
        started = time.perf_counter()
        try:
            return real_decode(pending)
        finally:
            spent["decode"] += time.perf_counter() - started

    def timed_write(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return real_write(*args)
        finally:
            spent["write"] += time.perf_counter() - started

    collector._decode = timed_decode  # type: ignore[method-assign]
    collector_loop.write_batch = timed_write  # type: ignore[assignment]
    registry = collector._metrics.registry
    started = None
    try:
        while (
            registry.get_sample_value(
                "driftline_collector_events_total", {"model": "bench", "outcome": "stored"}
            )
            or 0
        ) < events:
            before = spent["decode"]
            collector.step()
            if started is None and spent["decode"] > before:
                started = time.perf_counter() - (spent["decode"] + spent["write"])
    finally:
        collector_loop.write_batch = real_write  # type: ignore[assignment]
    assert started is not None
    total = time.perf_counter() - started
    assert count(database) == events
    collector.consumer.close(autocommit=False)  # type: ignore[union-attr]
    database.dispose()
    return {
        "rate": events / total,
        "decode": spent["decode"] / total,
        "write": spent["write"] / total,
    }


def processes(broker: Broker, topic: str, url: str, events: int, n: int) -> float:
    """``n`` `driftline collector` processes in one group; events/s until all are stored."""
    settings = settings_for(broker, topic, url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")} | {
        "DRIFTLINE_DATABASE__URL": url,
        "DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap,
        "DRIFTLINE_KAFKA__TOPIC": topic,
        "DRIFTLINE_KAFKA__GROUP_ID": settings.kafka.group_id,
        "DRIFTLINE_KAFKA__SESSION_TIMEOUT_MS": "6000",
        "DRIFTLINE_KAFKA__HEARTBEAT_INTERVAL_MS": "1000",
        "DRIFTLINE_LOG_LEVEL": "WARNING",
    }
    database = Database(DatabaseSettings(url=url))
    procs = [
        subprocess.Popen(
            [str(Path(sys.executable).parent / "driftline"), "collector"],
            env=env | {"DRIFTLINE_COLLECTOR__METRICS_PORT": str(9300 + i)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(n)
    ]

    def stored() -> int:
        # The processes' own counters: polling count(*) would load the database under test.
        total = 0
        for i in range(n):
            try:
                text = httpx.get(f"http://127.0.0.1:{9300 + i}/metrics", timeout=2).text
            except httpx.TransportError:
                continue
            for line in text.splitlines():
                if line.startswith(
                    'driftline_collector_events_total{model="bench",outcome="stored"'
                ):
                    total += int(float(line.rsplit(" ", 1)[1]))
        return total

    try:
        # A batch commits up to max_poll_records messages at once (50,000 events here), so
        # measure what arrives after the first commit is seen, over the time it takes.
        while (first := stored()) == 0:
            time.sleep(0.02)
        started = time.perf_counter()
        while stored() < events:
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        assert count(database) == events
        return (events - first) / elapsed
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        database.dispose()


def fresh_database(url: str) -> None:
    database = Database(DatabaseSettings(url=url))
    upgrade(database)
    with database.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM prediction_events")
    with database.write() as session:
        if not session.scalar(select(t.Model.id).where(t.Model.name == "bench")):
            create_model(session, ModelSpec.model_validate(MODEL))
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500_000)
    args = parser.parse_args()
    broker = start_broker()
    server = postgres.start()
    with psycopg.connect(
        f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute("CREATE DATABASE bench")
    pg_url = server.url("bench")
    sqlite_url = f"sqlite:////tmp/driftline-bench-{os.getpid()}.db"
    rows = []
    try:
        topic = broker.create_topic(partitions=4)
        produce(broker, topic, args.events)
        rows.append(
            (
                "plain kafka-python consume loop (ceiling)",
                1,
                ceiling(broker, topic, args.events),
                None,
            )
        )
        for name, url in (("PostgreSQL", pg_url), ("SQLite", sqlite_url)):
            fresh_database(url)
            result = in_process(broker, topic, url, args.events)
            rows.append((f"collector -> {name}", 1, result["rate"], result))
            for n in (1, 2) if name == "PostgreSQL" else (1,):
                fresh_database(url)
                rows.append(
                    (
                        f"`driftline collector` x{n} -> {name}",
                        n,
                        processes(broker, topic, url, args.events, n),
                        None,
                    )
                )
    finally:
        broker.stop()
        postgres.stop(server)
    ceiling_rate = rows[0][2]
    print(f"\n{args.events} events, 20 features, 4 partitions, envelopes of 100 events\n")
    print("| path | processes | events/s | vs ceiling | time in decode+validate / write |")
    print("| --- | --- | --- | --- | --- |")
    for name, n, rate, split in rows:
        where = f"{split['decode']:.0%} / {split['write']:.0%}" if split else ""
        print(f"| {name} | {n} | {rate:,.0f} | {rate / ceiling_rate:.2f}x | {where} |")


if __name__ == "__main__":
    main()
