"""Window aggregates (issue 10): run cost by window size, ingest cost, accuracy.

    .venv/bin/python bench/aggregates.py [--sizes 100000 1000000 10000000 36000000]
        [--raw-sizes 100000 1000000] [--only run|ingest|accuracy]

A model with 100 features (70 numeric of four shapes, 30 categorical), a 100,000-row reference,
a one-hour window, on a PostgreSQL this script starts. 20% of the features drift.

* **Run cost**: ``run_detection`` on the aggregate path, and on the raw path where the raw
  events were stored. Windows in ``--raw-sizes`` are stored through ``store_events`` (raw rows
  and, in the same transactions, their aggregates) and compacted by the maintenance pass. The
  larger windows get their aggregate rows from the same accumulation code applied to generated
  columns chunk by chunk, without raw rows (storing 36M raw events is not needed to measure
  a path that never reads them): ``accumulate``'s per-slot functions, one row per minute.
* **Ingest**: ``store_events`` of the same batches into a model whose version has aggregates
  and into one that has none, alternating, in the same run.
* **Accuracy**: every statistic on the aggregates against the exact one on the same data
  (1M-event window), the largest difference against the largest bound, and the verdicts.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

import numpy as np
import pandas as pd
from sqlalchemy import insert

from bench.aggregates_data import (
    KINDS,
    MODEL,
    columns,
    events,
    reference_frame,
)
from detectors.maintenance import maintain
from detectors.profile import build_profile
from detectors.runs import run_detection
from driftline.aggregates.accumulate import add_categorical, add_numeric
from driftline.aggregates.partial import Partial
from driftline.aggregates.states import layout_of
from driftline.core.aggregate_settings import AggregateSettings
from driftline.core.contract import parse_event
from driftline.core.modelspec import ModelSpec
from driftline.core.settings import DatabaseSettings
from driftline.core.storage import Database, upgrade
from driftline.core.storage.aggregate_tables import AggregateBucket
from driftline.ingest.store import store_events
from driftline.registry.models import create_model
from driftline.registry.references import store_reference
from tests.support import postgres

END = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SETTINGS = AggregateSettings()


def _database(server: postgres.ThrowawayPostgres, name: str) -> Database:
    server.create_database(f"{name}")
    database = Database(DatabaseSettings(url=server.url(name)))
    upgrade(database)
    return database


def _model(database: Database, name: str, reference: pd.DataFrame | None) -> None:
    with database.write() as session:
        create_model(session, ModelSpec.model_validate({**MODEL, "name": name}))
    if reference is not None:
        profile = build_profile(reference, KINDS, "categorical").to_bytes()
        with database.write() as session:
            store_reference(session, name, "1", reference, "parquet", profile)
        maintain(database, SETTINGS, "bench", END)


def _store_raw(database: Database, model: str, n: int, batch: int = 5000) -> float:
    """Store n events over the hour before END through store_events; returns seconds."""
    rng = np.random.default_rng(n)
    spent = 0.0
    for start in range(0, n, batch):
        size = min(batch, n - start)
        parsed = [parse_event(e) for e in events(rng, model, size, END, start, n)]
        began = time.perf_counter()
        with database.write() as session:
            store_events(session, parsed)
        spent += time.perf_counter() - began
    return spent


def _synthesize(database: Database, model: str, n: int, chunk: int = 100_000) -> float:
    """Aggregate rows for n generated events, one compacted row per minute (no raw rows)."""
    with database.read() as session:
        from sqlalchemy import select

        from driftline.core.storage import tables as t

        reference_id = session.scalar(select(t.ReferenceDataset.id))
        layout = layout_of(session, int(reference_id or 0))
    assert layout is not None
    rng = np.random.default_rng(n)
    began = time.perf_counter()
    per_minute = n // 60
    for minute in range(60):
        total = Partial.empty(layout.total_bins, len(layout.slots), layout.n_numeric)
        done = 0
        while done < per_minute:
            size = min(chunk, per_minute - done)
            data = columns(rng, size)
            part = Partial.empty(layout.total_bins, len(layout.slots), layout.n_numeric)
            part.n_events = size
            for i, slot in enumerate(layout.slots):
                values = data[slot.name]
                if slot.is_numeric:
                    add_numeric(part, layout, i, slot, values)
                else:
                    add_categorical(part, i, slot, values.tolist())
            total.merge(part)
            done += size
        with database.write() as session:
            session.execute(
                insert(AggregateBucket).values(
                    version_id=1,
                    reference_id=layout.reference_id,
                    bucket_start=END - timedelta(minutes=60 - minute),
                    n_events=total.n_events,
                    compacted=True,
                    data=total.encode(),
                    created_at=datetime.now(UTC),
                )
            )
    return time.perf_counter() - began


def _timed_run(database: Database, model: str, path: str) -> tuple[float, Any]:
    began = time.perf_counter()
    record = run_detection(database, model, window_end=END, path=path)  # type: ignore[arg-type]
    return time.perf_counter() - began, record


def run_cost(server: postgres.ThrowawayPostgres, sizes: list[int], raw_sizes: set[int]) -> None:
    reference = reference_frame(np.random.default_rng(0), 100_000)
    rows = []
    for size in sizes:
        database = _database(server, f"run_{size}")
        _model(database, "bench", reference)
        if size in raw_sizes:
            build = _store_raw(database, "bench", size)
            maintain(database, SETTINGS, "bench", END + timedelta(minutes=10))  # compaction
            how = f"store_events {size / build:,.0f} ev/s"
        else:
            build = _synthesize(database, "bench", size)
            how = f"synthesized in {build:,.0f} s"
        cold, record = _timed_run(database, "bench", "aggregates")
        warm = min(_timed_run(database, "bench", "aggregates")[0] for _ in range(3))
        assert record.n_events == size - size % 60 or size in raw_sizes, record.n_events
        raw: float | None = None
        verdicts = ""
        if size in raw_sizes:
            raw, exact = _timed_run(database, "bench", "raw")
            verdicts = "same" if exact.drifted_features == record.drifted_features else "DIFFER"
        rows.append(
            (size, cold, warm, raw, record.n_events, len(record.drifted_features), verdicts, how)
        )
        print(rows[-1], flush=True)
        database.dispose()
    print(
        "\n| events in window | aggregate path, first run (s) | aggregate path, warm (s) "
        "| raw path (s) | raw / aggregate | drifted (of 100) | verdicts vs raw "
        "| aggregates built by |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for _, cold, warm, raw, n, drifted, verdicts, how in rows:
        ratio = f"{raw / warm:,.0f}x" if raw else ""
        raw_text = f"{raw:.2f}" if raw else "not run (> 10 min)"
        cells = [f"{n:,}", f"{cold:.2f}", f"{warm:.2f}", raw_text, ratio, str(drifted), verdicts]
        print("| " + " | ".join([*cells, how]) + " |")


def ingest(server: postgres.ThrowawayPostgres, rounds: int, batch: int) -> None:
    database = _database(server, "ingest")
    reference = reference_frame(np.random.default_rng(0), 20_000)
    _model(database, "on", reference)
    _model(database, "off", None)
    rng = np.random.default_rng(5)
    spent = {"on": 0.0, "off": 0.0}
    stored = {"on": 0, "off": 0}
    for r in range(rounds + 1):
        for model in ("on", "off") if r % 2 else ("off", "on"):
            parsed = [parse_event(e) for e in events(rng, model, batch, END, r * batch, 10**9)]
            began = time.perf_counter()
            with database.write() as session:
                outcome = store_events(session, parsed)
            if r:  # round 0 warms up both (layout cache, prepared statements)
                spent[model] += time.perf_counter() - began
                stored[model] += len(outcome.stored)
    on, off = stored["on"] / spent["on"], stored["off"] / spent["off"]
    print(f"\n{rounds} rounds of {batch:,} events x 100 features per model, alternating")
    print("| aggregates | events/s (store_events + commit) | vs off |")
    print("| --- | --- | --- |")
    print(f"| off | {off:,.0f} | 1.00x |")
    print(f"| on | {on:,.0f} | {on / off:.2f}x ({(1 - on / off) * 100:.0f}% slower) |")
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000, 36_000_000]
    )
    parser.add_argument("--raw-sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--only", choices=["run", "ingest", "accuracy"])
    parser.add_argument("--ingest-rounds", type=int, default=10)
    parser.add_argument("--ingest-batch", type=int, default=5000)
    args = parser.parse_args()
    if args.only in (None, "accuracy"):
        from bench.aggregates_accuracy import accuracy

        accuracy(1_000_000)
    if args.only == "accuracy":
        return
    server = postgres.start()
    try:
        if args.only in (None, "ingest"):
            ingest(server, args.ingest_rounds, args.ingest_batch)
        if args.only in (None, "run"):
            run_cost(server, args.sizes, set(args.raw_sizes))
    finally:
        postgres.stop(server)


if __name__ == "__main__":
    main()
