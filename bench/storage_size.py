"""PostgreSQL space per stored prediction event and label, for sizing a deployment.

    .venv/bin/python bench/storage_size.py [--events 100000]

Stores ``--events`` events (UUID event ids, a label for each) for a 3-feature model (the
README's ``fraud``) and a 20-feature one (14 numeric, 6 categorical) through the ingest code,
then reports the heap and index bytes of ``prediction_events`` and ``labels`` per row after
VACUUM ANALYZE. Starts its own PostgreSQL.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

import numpy as np
import psycopg

from driftline.core.contract import parse_event
from driftline.core.modelspec import ModelSpec
from driftline.core.settings import DatabaseSettings
from driftline.core.storage import Database, upgrade
from driftline.ingest.store import store_events
from driftline.registry.models import create_model
from tests.support import postgres

__all__ = ["main"]

NUMERIC = [f"n{i}" for i in range(14)]
CATEGORICAL = [f"c{i}" for i in range(6)]
MODELS = {
    "fraud": [("amount", "numeric"), ("country", "categorical"), ("is_new", "boolean")],
    "wide": [(n, "numeric") for n in NUMERIC] + [(c, "categorical") for c in CATEGORICAL],
}


def _features(model: str, rng: np.random.Generator) -> dict[str, object]:
    if model == "fraud":
        return {
            "amount": round(float(rng.gamma(2.0, 50.0)), 2),
            "country": str(rng.choice(["DE", "FR", "US", "GB", "ES"])),
            "is_new": bool(rng.random() < 0.3),
        }
    return {n: float(rng.normal()) for n in NUMERIC} | {
        c: str(rng.choice(list("abcdefgh"))) for c in CATEGORICAL
    }


def fill(database: Database, model: str, events: int) -> None:
    spec = {"name": model, "task": "binary_classification"}
    features = [{"name": name, "type": kind} for name, kind in MODELS[model]]
    with database.write() as session:
        create_model(session, ModelSpec.model_validate(spec | {"features": features}))
    rng = np.random.default_rng(3)
    for start in range(0, events, 10_000):
        ids = [str(uuid.uuid4()) for _ in range(min(10_000, events - start))]
        batch = [
            parse_event(
                {
                    "event_id": i,
                    "model": model,
                    "prediction": "0",
                    "score": 0.25,
                    "features": _features(model, rng),
                }
            )
            for i in ids
        ]
        labels = [
            parse_event({"type": "label", "event_id": i, "model": model, "label": "1"}) for i in ids
        ]
        with database.write() as session:
            store_events(session, [*batch, *labels])


def sizes(url: str) -> dict[str, tuple[int, int, int]]:
    """Table -> (rows, heap + TOAST bytes, index bytes); a partitioned table's size is that of
    its partitions (``pg_partition_tree``; nothing for a plain table, which is measured itself)."""
    out = {}
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        for table in ("prediction_events", "event_ids", "labels"):
            row = conn.execute(
                "SELECT coalesce(sum(pg_table_size(relid)), pg_table_size(%(t)s::regclass)), "
                "coalesce(sum(pg_indexes_size(relid)), pg_indexes_size(%(t)s::regclass)) "
                "FROM pg_partition_tree(%(t)s::regclass)",
                {"t": table},
            ).fetchone()
            count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
            assert row is not None and count is not None
            out[table] = (int(count[0]), int(row[0]), int(row[1]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    server = postgres.start()
    print("| model | features | table | rows | heap bytes / row | index bytes / row |")
    print("| --- | --- | --- | --- | --- | --- |")
    try:
        for model in MODELS:
            server.create_database(f"size_{model}")
            url = server.url(f"size_{model}")
            database = Database(DatabaseSettings(url=url))
            upgrade(database)
            fill(database, model, args.events)
            database.dispose()
            for table, (rows, heap, index) in sizes(url).items():
                print(
                    f"| {model} | {len(MODELS[model])} | {table} | {rows:,} | "
                    f"{heap / rows:.0f} | {index / rows:.0f} |"
                )
    finally:
        postgres.stop(server)


if __name__ == "__main__":
    main()
