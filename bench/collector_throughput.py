"""Collector throughput, broker to database, against a consume loop that does nothing.

    .venv/bin/python bench/collector_throughput.py [--events 500000] [--rounds 1]

Events have 20 features and travel as the SDK sends them (envelopes of 100 events per Kafka
message) on a 4-partition topic of the tansu broker. Starts its own broker and PostgreSQL.

The in-process run splits the wall time into decode+validate (``Collector._decode``), building
rows (``store_events`` without its insert: conforming, JSON encoding), inserting (``insert_new``:
COPY or executemany, and waiting for the server) and committing (the rest of ``write_batch``);
it also reports the CPU time the PostgreSQL server spent per event. On a shared machine every
figure is noisy: compare each row with the ceiling measured in the same round.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

import httpx
from kafka import KafkaConsumer, KafkaProducer
from prometheus_client import CollectorRegistry
from sqlalchemy import func, inspect, select

from collector import loop as collector_loop
from collector import writer as collector_writer
from collector.run import build
from driftline.core.modelspec import ModelSpec
from driftline.core.settings import DatabaseSettings, Settings
from driftline.core.storage import Database, upgrade
from driftline.core.storage import tables as t
from driftline.ingest import store as ingest_store
from driftline.registry.models import create_model
from tests.support import postgres
from tests.support.kafka import Broker, start_broker

MODEL = {
    "name": "bench",
    "task": "binary_classification",
    "features": [{"name": f"n{i}", "type": "numeric"} for i in range(14)]
    + [{"name": f"c{i}", "type": "categorical"} for i in range(6)],
}


def produce_values(events: int) -> list[bytes]:
    """The Kafka message values: SDK envelopes of 100 events with 20 features each."""
    values = []
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
        values.append(json.dumps({"schema_version": 1, "events": batch}).encode())
    return values


def produce(broker: Broker, topic: str, events: int) -> None:
    producer = KafkaProducer(
        bootstrap_servers=broker.bootstrap,
        linger_ms=20,
        compression_type="lz4",
        max_request_size=4 * 1024 * 1024,
    )
    for number, value in enumerate(produce_values(events)):
        producer.send(topic, value=value, partition=number % 4)
    producer.flush(120)
    producer.close()


def _broker_cpu(broker: Broker) -> float:
    """CPU seconds the broker process used so far (Linux /proc)."""
    if broker.process is None:
        return 0.0
    fields = Path(f"/proc/{broker.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ceiling(broker: Broker, topic: str, events: int) -> dict[str, float]:
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
    cpu, broker_cpu = time.process_time(), _broker_cpu(broker)
    while seen < events:
        for records in consumer.poll(timeout_ms=1000).values():
            started = started or time.perf_counter()
            for record in records:
                seen += record.value.count(b'"event_id"')
    assert started is not None
    rate = events / (time.perf_counter() - started)
    cpu, broker_cpu = time.process_time() - cpu, _broker_cpu(broker) - broker_cpu
    consumer.close()
    return {"rate": rate, "client_us": cpu / events * 1e6, "broker_us": broker_cpu / events * 1e6}


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


def server_ticks(server: postgres.ThrowawayPostgres | None) -> dict[int, int]:
    """CPU ticks of each PostgreSQL server process (Linux /proc), by pid."""
    if server is None:
        return {}
    postmaster = int((server.directory / "data" / "postmaster.pid").read_text().split()[0])
    ticks = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster or int(entry.name) == postmaster:
            ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    return ticks


def _postgres_cpu(server: postgres.ThrowawayPostgres | None) -> float:
    """CPU seconds the PostgreSQL server's processes used so far."""
    return sum(server_ticks(server).values()) / os.sysconf("SC_CLK_TCK")


def timed(
    spent: dict[str, float], key: str, real: Any, clock: Callable[[], float] = time.perf_counter
) -> Any:
    """``real``, adding the ``clock`` time of each call to ``spent[key]``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = clock()
        try:
            return real(*args, **kwargs)
        finally:
            spent[key] += clock() - started

    return wrapper


def in_process(
    broker: Broker, topic: str, url: str, events: int, server: postgres.ThrowawayPostgres | None
) -> dict[str, float]:
    """One collector in this process, with decode, rows and insert timed separately."""
    database = Database(DatabaseSettings(url=url))
    collector = build(settings_for(broker, topic, url), database, CollectorRegistry())
    spent = {"decode": 0.0, "write": 0.0, "store": 0.0, "insert": 0.0}
    collector._decode = timed(spent, "decode", collector._decode)  # type: ignore[method-assign]
    # Module attributes replaced for the run, and put back after it.
    patched = [
        (vars(collector_loop), "write_batch", "write"),
        (vars(collector_writer), "store_events", "store"),
        (vars(ingest_store), "insert_new", "insert"),
    ]
    real = [module[name] for module, name, _ in patched]
    for (module, name, key), function in zip(patched, real, strict=True):
        module[name] = timed(spent, key, function)
    registry = collector._metrics.registry
    started = None
    server_started = _postgres_cpu(server)  # idle until the group is joined
    cpu, broker_cpu = time.process_time(), _broker_cpu(broker)
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
        for (module, name, _), function in zip(patched, real, strict=True):
            module[name] = function
    assert started is not None
    total = time.perf_counter() - started
    server_cpu = _postgres_cpu(server) - server_started
    cpu, broker_cpu = time.process_time() - cpu, _broker_cpu(broker) - broker_cpu
    assert count(database) == events
    collector.consumer.close(autocommit=False)  # type: ignore[union-attr]
    database.dispose()
    return {
        "rate": events / total,
        "decode": spent["decode"] / total,
        "rows": (spent["store"] - spent["insert"]) / total,
        "insert": spent["insert"] / total,
        "commit": (spent["write"] - spent["store"]) / total,
        "server_us": server_cpu / events * 1e6,
        "client_us": cpu / events * 1e6,
        "broker_us": broker_cpu / events * 1e6,
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
    # Free ports, not fixed ones: a collector of another run on the machine holding a fixed
    # port would make ours exit at start and this loop read the other one's counters.
    ports = [postgres.free_port() for _ in range(n)]
    procs = [
        subprocess.Popen(
            [str(Path(sys.executable).parent / "driftline"), "collector"],
            env=env | {"DRIFTLINE_COLLECTOR__METRICS_PORT": str(port)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]

    def stored() -> int:
        # The processes' own counters: polling count(*) would load the database under test.
        if any(proc.poll() is not None for proc in procs):
            raise RuntimeError("a `driftline collector` process exited; run it alone to see why")
        total = 0
        for port in ports:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
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
    # The ids of stored events too (a registry table, where the schema has one): re-reading
    # the topic into a database that still knows them would store nothing (duplicates).
    registry = getattr(t.PredictionEvent.__table__, "info", {}).get("id_registry")
    with database.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM prediction_events")
        if registry and inspect(conn).has_table(registry):
            conn.exec_driver_sql(f"DELETE FROM {registry}")  # noqa: S608 - our table name
    with database.write() as session:
        if not session.scalar(select(t.Model.id).where(t.Model.name == "bench")):
            create_model(session, ModelSpec.model_validate(MODEL))
    database.dispose()


def one_round(
    broker: Broker, server: postgres.ThrowawayPostgres, pg_url: str, sqlite_url: str, events: int
) -> list[tuple[str, int, float, dict[str, float] | None]]:
    rows: list[tuple[str, int, float, dict[str, float] | None]] = []
    topic = broker.create_topic(partitions=4)
    produce(broker, topic, events)
    peer = ceiling(broker, topic, events)
    rows.append(("plain kafka-python consume loop (ceiling)", 1, peer["rate"], peer))
    for name, url in (("PostgreSQL", pg_url), ("SQLite", sqlite_url)):
        fresh_database(url)
        result = in_process(broker, topic, url, events, server if name == "PostgreSQL" else None)
        rows.append((f"collector -> {name}", 1, result["rate"], result))
        for n in (1, 2) if name == "PostgreSQL" else (1,):
            fresh_database(url)
            rate = processes(broker, topic, url, events, n)
            rows.append((f"`driftline collector` x{n} -> {name}", n, rate, None))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    broker = start_broker()
    server = postgres.start()
    server.create_database("bench")
    pg_url = server.url("bench")
    sqlite_url = f"sqlite:////tmp/driftline-bench-{os.getpid()}.db"
    rounds = []
    try:
        for _ in range(args.rounds):
            rounds.append(one_round(broker, server, pg_url, sqlite_url, args.events))
    finally:
        broker.stop()
        postgres.stop(server)
    print(f"\n{args.events} events, 20 features, 4 partitions, envelopes of 100 events")
    for number, rows in enumerate(rounds, 1):
        ceiling_rate = rows[0][2]
        print(f"\nround {number}\n")
        print(
            "| path | processes | events/s | vs ceiling | wall time in decode+validate / rows "
            "/ insert / commit | CPU per event: this process / broker / PostgreSQL server |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        for name, n, rate, split in rows:
            where = cpu = ""
            if split and "decode" in split:
                where = " / ".join(
                    f"{split[k]:.0%}" for k in ("decode", "rows", "insert", "commit")
                )
            if split:
                on_server = f"{split['server_us']:.1f}" if split.get("server_us") else "-"
                cpu = f"{split['client_us']:.1f} / {split['broker_us']:.1f} / {on_server} us"
            print(f"| {name} | {n} | {rate:,.0f} | {rate / ceiling_rate:.2f}x | {where} | {cpu} |")


if __name__ == "__main__":
    main()
