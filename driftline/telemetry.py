"""The catalogue of Driftline's metric names and labels, in one place.

Every process builds its metrics from these specs against a registry passed in, never the global
one. Names follow Prometheus conventions: ``driftline_`` prefix, base units, ``_total`` for
counters; labels are bounded (model names come from the registry, never from raw input).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COLLECTOR", "SCHEDULER", "MetricSpec"]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    kind: str  # counter | gauge | histogram
    help: str
    labels: tuple[str, ...] = ()


class COLLECTOR:
    MESSAGES = MetricSpec(
        "driftline_collector_messages_consumed_total",
        "counter",
        "Kafka messages consumed.",
        ("topic",),
    )
    EVENTS = MetricSpec(
        "driftline_collector_events_total",
        "counter",
        "Events handled, by registered model and outcome (stored, duplicate).",
        ("model", "outcome"),
    )
    DEAD_LETTERS = MetricSpec(
        "driftline_collector_dead_letters_total",
        "counter",
        "Messages or events dead-lettered, by reason "
        "(not_json, invalid_contract, too_large, unknown_model).",
        ("reason",),
    )
    BATCH_SECONDS = MetricSpec(
        "driftline_collector_batch_write_seconds",
        "histogram",
        "Time to write one batch in one database transaction.",
    )
    COMMITTED_OFFSET = MetricSpec(
        "driftline_collector_committed_offset",
        "gauge",
        "Last committed offset (next to read) per partition.",
        ("topic", "partition"),
    )
    LAG = MetricSpec(
        "driftline_collector_lag_messages",
        "gauge",
        "Broker end offset minus committed offset, per partition.",
        ("topic", "partition"),
    )
    DB_RETRIES = MetricSpec(
        "driftline_collector_database_retries_total",
        "counter",
        "Batch writes retried because the database failed.",
    )
    UP = MetricSpec("driftline_collector_up", "gauge", "1 while the collector runs.")
    READY = MetricSpec(
        "driftline_collector_ready", "gauge", "1 while the collector can write to the database."
    )


class SCHEDULER:
    RUNS = MetricSpec(
        "driftline_scheduler_runs_total",
        "counter",
        "Scheduled detection runs, by outcome (ok, insufficient_data, failed).",
        ("status",),
    )
    RUN_SECONDS = MetricSpec(
        "driftline_scheduler_run_duration_seconds",
        "histogram",
        "Duration of one scheduled detection run.",
    )
    LAST_TICK = MetricSpec(
        "driftline_scheduler_last_tick_timestamp_seconds",
        "gauge",
        "When the scheduler last looked for due windows (Unix time).",
    )
    UP = MetricSpec("driftline_scheduler_up", "gauge", "1 while the scheduler runs.")
