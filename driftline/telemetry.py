"""The catalogue of Driftline's metric names and labels, in one place (``docs/metrics.md``).

Every process builds its metrics from these specs against a registry passed in, never the global
one. Names follow Prometheus conventions: ``driftline_`` prefix, base units, ``_total`` for
counters; labels are bounded (model names and features come from the registry's schemas, never
from raw input; segments are capped per monitor). The dashboards (``dashboards/``) and the
Prometheus rules are checked against :func:`catalogue`, so no panel queries a missing metric.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "COLLECTOR",
    "DEAD_LETTER_REASONS",
    "RESULTS",
    "RUN_STATUSES",
    "SCHEDULER",
    "MetricSpec",
    "catalogue",
    "series_names",
]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    kind: str  # counter | gauge | histogram
    help: str
    labels: tuple[str, ...] = ()


# Bounded label values, exported as zeros before they first happen so that rate() and alert
# expressions have a series to work on from the start.
DEAD_LETTER_REASONS = ("not_json", "invalid_contract", "too_large", "unknown_model")
RUN_STATUSES = ("ok", "insufficient_data", "failed")


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
        "(not_json, invalid_contract, too_large, unknown_model, past_retention).",
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
    DEAD_LETTER_TOPIC_FAILURES = MetricSpec(
        "driftline_collector_dead_letter_topic_failures_total",
        "counter",
        "Dead letters stored in the database but not copied to the dead-letter topic.",
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


_MV = ("model", "version")
_FEATURE = ("model", "version", "feature")
_FEATURE_METHOD = ("model", "version", "feature", "method")


class RESULTS:
    """The monitoring results, read from the database by the API's ``/metrics`` (every replica
    reports the same values). Per-feature and dataset series describe the latest completed
    (status ok) run of each model version."""

    FEATURE_STATISTIC = MetricSpec(
        "driftline_feature_drift_statistic",
        "gauge",
        "Drift statistic of the feature's method (KS D, Wasserstein/std, chi-square, JS, PSI).",
        _FEATURE_METHOD,
    )
    FEATURE_P_VALUE = MetricSpec(
        "driftline_feature_drift_p_value",
        "gauge",
        "p-value of the feature's test (p-value methods only: ks, chi_square, z_test).",
        _FEATURE_METHOD,
    )
    FEATURE_EFFECT_SIZE = MetricSpec(
        "driftline_feature_drift_effect_size",
        "gauge",
        "Effect size of the feature's shift (KS D, Cramér's V, Cohen's h, or the distance).",
        _FEATURE_METHOD,
    )
    FEATURE_THRESHOLD = MetricSpec(
        "driftline_feature_drift_threshold",
        "gauge",
        "Threshold the statistic (or p-value) is compared with.",
        _FEATURE_METHOD,
    )
    FEATURE_DRIFTED = MetricSpec(
        "driftline_feature_drifted",
        "gauge",
        "1 when the feature drifted, else 0; key is true for the schema's key features.",
        (*_FEATURE, "key"),
    )
    FEATURE_PSI = MetricSpec(
        "driftline_feature_psi",
        "gauge",
        "Population stability index on reference-quantile bins (warn 0.1, alert 0.25).",
        _FEATURE,
    )
    FEATURE_SAMPLE_SIZE = MetricSpec(
        "driftline_feature_sample_size",
        "gauge",
        "Non-missing values compared, by sample (reference, current).",
        (*_FEATURE, "sample"),
    )
    DATA_QUALITY = MetricSpec(
        "driftline_feature_data_quality_ratio",
        "gauge",
        "Share of the window's values failing a check "
        "(missing, type_violation, out_of_range, unseen_category).",
        (*_FEATURE, "check"),
    )
    DRIFT_SHARE = MetricSpec(
        "driftline_dataset_drift_share",
        "gauge",
        "Share of the checked features that drifted (0 to 1).",
        _MV,
    )
    DATASET_DRIFTED = MetricSpec(
        "driftline_dataset_drifted",
        "gauge",
        "1 when the dataset drifted (share above the monitor's, or a key feature), else 0.",
        _MV,
    )
    DRIFTED_FEATURES = MetricSpec(
        "driftline_dataset_drifted_features", "gauge", "Number of drifted features.", _MV
    )
    SEGMENT_DRIFT_SHARE = MetricSpec(
        "driftline_segment_drift_share",
        "gauge",
        "Drift share within a segment (tag=value; the monitor's most frequent values only).",
        (*_MV, "segment"),
    )
    PREDICTION_STATISTIC = MetricSpec(
        "driftline_prediction_drift_statistic",
        "gauge",
        "Drift statistic of the model's predictions against the reference's.",
        (*_MV, "method"),
    )
    PREDICTION_DRIFTED = MetricSpec(
        "driftline_prediction_drifted", "gauge", "1 when the predictions drifted, else 0.", _MV
    )
    PERFORMANCE = MetricSpec(
        "driftline_model_performance",
        "gauge",
        "Performance on the window's labelled events (accuracy, precision, recall, f1, "
        "roc_auc, log_loss; mae, rmse, mape for regression).",
        (*_MV, "metric"),
    )
    LABEL_COVERAGE = MetricSpec(
        "driftline_label_coverage_ratio",
        "gauge",
        "Share of the window's events that have a label.",
        _MV,
    )
    LAST_RUN_TIMESTAMP = MetricSpec(
        "driftline_last_run_timestamp_seconds",
        "gauge",
        "When the latest run (any status) finished (Unix time).",
        _MV,
    )
    LAST_RUN_STATUS = MetricSpec(
        "driftline_last_run_status",
        "gauge",
        "1 for the latest run's status (ok, insufficient_data, failed), 0 for the others.",
        (*_MV, "status"),
    )
    LAST_RUN_EVENTS = MetricSpec(
        "driftline_last_run_events", "gauge", "Events in the latest run's window.", _MV
    )
    LAST_RUN_DURATION = MetricSpec(
        "driftline_last_run_duration_seconds", "gauge", "Duration of the latest run.", _MV
    )
    LAST_RUN_ID = MetricSpec(
        "driftline_last_run_id",
        "gauge",
        "Id of the latest completed run, for links to /v1/runs/{id} and its report.",
        _MV,
    )
    EVENTS_STORED = MetricSpec(
        "driftline_events_stored_total",
        "counter",
        "Prediction events stored, per model (HTTP and Kafka alike); counted at ingest, so "
        "retention removing raw events never lowers it.",
        ("model",),
    )
    ALERTS_FIRING = MetricSpec(
        "driftline_alerts_firing",
        "gauge",
        "Driftline alerts currently firing, by model and severity (info, warning, critical).",
        ("model", "severity"),
    )
    WEBHOOK_DELIVERIES = MetricSpec(
        "driftline_webhook_deliveries_total",
        "counter",
        "Webhook messages by endpoint and final outcome (delivered, failed, suppressed).",
        ("endpoint", "outcome"),
    )
    WEBHOOK_PENDING = MetricSpec(
        "driftline_webhook_deliveries_pending",
        "gauge",
        "Webhook messages waiting for a (re)try, by endpoint.",
        ("endpoint",),
    )
    DATABASE_UP = MetricSpec(
        "driftline_database_up",
        "gauge",
        "1 when the results above could be read from the database at this scrape, else 0.",
    )


def catalogue() -> list[MetricSpec]:
    """Every metric Driftline exports."""
    return [
        value
        for group in (RESULTS, COLLECTOR, SCHEDULER)
        for value in vars(group).values()
        if isinstance(value, MetricSpec)
    ]


def series_names(spec: MetricSpec) -> tuple[str, ...]:
    """The series a metric appears as in the exposition (a histogram has three)."""
    if spec.kind == "histogram":
        return (f"{spec.name}_bucket", f"{spec.name}_sum", f"{spec.name}_count")
    return (spec.name,)
