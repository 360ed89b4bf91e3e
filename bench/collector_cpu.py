"""Collector client CPU per event by stage, without Kafka: the batch a poll would return.

    .venv/bin/python bench/collector_cpu.py [--events 50000] [--rounds 3] [--postgres]
                                            [--profile decode|write]

Messages are built as ``bench/collector_throughput.py`` produces them (SDK envelopes of 100
events with 20 features) and handed to ``Collector._decode`` and ``write_batch`` as the consume
loop does. CPU time of this process (``time.process_time``) per event, split into decode +
validate, building rows (``store_events`` without ``insert_new``), ``insert_new`` (the Python
side of COPY / executemany) and the rest of the write (``Collector._try_write``: dead letters,
commit); with
``--postgres`` also the CPU the PostgreSQL server's processes spent per event. The minimum over
rounds is printed: on a shared machine it is the figure least disturbed by the neighbours.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).parents[1]))

from prometheus_client import CollectorRegistry

from bench.collector_throughput import fresh_database, produce_values, server_ticks, timed
from collector import writer as collector_writer
from collector.batch_gc import no_cycle_collection
from collector.loop import Collector
from collector.metrics import CollectorMetrics
from collector.writer import BatchResult
from driftline.core.settings import DatabaseSettings, Settings
from driftline.core.storage import Database
from driftline.ingest import store as ingest_store
from tests.support import postgres


class Record(NamedTuple):
    topic: str
    partition: int
    offset: int
    value: bytes


def _server_cpu(before: dict[int, int], after: dict[int, int]) -> float:
    # Processes that exited meanwhile (the backend of a disposed engine) are left out: their
    # ticks vanished with them and would make the difference negative.
    spent = sum(ticks - before.get(pid, 0) for pid, ticks in after.items())
    return spent / os.sysconf("SC_CLK_TCK")


def one_round(url: str, events: int, server: Any, profile: str | None) -> dict[str, float]:
    # New event ids every round: ids stored by an earlier round would be duplicates.
    values = produce_values(events)
    records = {"t": [Record("t", 0, offset, value) for offset, value in enumerate(values)]}
    fresh_database(url)
    database = Database(DatabaseSettings(url=url))
    settings = Settings()
    settings.database.url = url
    collector = Collector(database, CollectorMetrics(CollectorRegistry()), settings)
    spent = {"store": 0.0, "insert": 0.0}
    patched = [
        (vars(collector_writer), "store_events", "store"),
        (vars(ingest_store), "insert_new", "insert"),
    ]
    real = [module[name] for module, name, _ in patched]
    for (module, name, key), function in zip(patched, real, strict=True):
        module[name] = timed(spent, key, function, time.process_time)
    profiler = cProfile.Profile(time.process_time) if profile else None

    def run(stage: str, call: Callable[[], Any]) -> Any:
        if profiler is not None and profile == stage:
            return profiler.runcall(call)
        return call()

    try:
        server_started = server_ticks(server)
        started = time.process_time()
        with no_cycle_collection():  # as the consume loop decodes
            decoded = run("decode", lambda: collector._decode(records))
        decode = time.process_time() - started
        started = time.process_time()
        result = run("write", lambda: collector._try_write(decoded))
        write = time.process_time() - started
        server_cpu = _server_cpu(server_started, server_ticks(server))
    finally:
        for (module, name, _), function in zip(patched, real, strict=True):
            module[name] = function
        database.dispose()
    assert isinstance(result, BatchResult), result
    assert sum(result.stored.values()) == events, result
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    us = 1e6 / events
    return {
        "decode": decode * us,
        "rows": (spent["store"] - spent["insert"]) * us,
        "insert": spent["insert"] * us,
        "rest": (write - spent["store"]) * us,
        "server": server_cpu * us,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--profile", choices=("decode", "write"))
    args = parser.parse_args()
    server = None
    if args.postgres:
        server = postgres.start()
        server.create_database("bench")
        url = server.url("bench")
    else:
        url = f"sqlite:////tmp/driftline-cpu-{os.getpid()}.db"
    try:
        if args.profile:  # a round of its own: the profiler's overhead is not counted
            one_round(url, args.events, server, args.profile)
        results = [one_round(url, args.events, server, None) for _ in range(args.rounds)]
    finally:
        if server is not None:
            postgres.stop(server)
    best = {key: min(r[key] for r in results) for key in results[0]}
    where = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{args.events} events x 20 features, {where}, min of {len(results)} rounds")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| stage | CPU us per event |\n| --- | --- |")
    for key, label in (
        ("decode", "decode + validate"),
        ("rows", "rows (store_events without insert_new)"),
        ("insert", "insert_new (client)"),
        ("rest", "rest of the write (dead letters, commit)"),
        ("server", "PostgreSQL server"),
    ):
        if key != "server" or args.postgres:
            print(f"| {label} | {best[key]:.1f} |")
    client = best["decode"] + best["rows"] + best["insert"] + best["rest"]
    print(f"| client total | {client:.1f} |")


if __name__ == "__main__":
    main()
