""" "Pipeline health": is Driftline itself keeping up? Ingest, collector, detectors, webhooks.

Process metrics come from each collector and scheduler (one series per process), the rest from
the API's ``/metrics`` (identical on every replica, hence ``max``).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import dashboard as model

from dashboards.panels import GREEN, datasource_variable, single, steps, trend
from dashboards.promql import RATE, by, sel
from driftline.telemetry import COLLECTOR as C
from driftline.telemetry import RESULTS as R
from driftline.telemetry import SCHEDULER as S

__all__ = ["UID", "build"]

UID = "driftline-pipeline"
EVENTS_RATE = f"max {by(R.EVENTS_STORED, 'model')} (rate({sel(R.EVENTS_STORED)}[{RATE}]))"


def _quantile(q: float, bucket: str) -> str:
    return f"histogram_quantile({q}, sum by (le) (rate({bucket}[{RATE}])))"


def _ingest(board: dash.Dashboard) -> dash.Dashboard:
    lag = f"sum({sel(C.LAG)})"
    return (
        board.with_row(dash.Row("Ingest"))
        .with_panel(
            single(
                "Database",
                "1 when the API could read the monitoring results from the database.",
                f"min({sel(R.DATABASE_UP)})",
                "none",
                steps((None, "red"), (1, GREEN)),
                width=6,
            )
        )
        .with_panel(
            single(
                "Collectors ready",
                "Collectors that can write to the database.",
                f"sum({sel(C.READY)})",
                "none",
                steps((None, "red"), (1, GREEN)),
                width=6,
            )
        )
        .with_panel(
            single(
                "Consumer lag",
                "Kafka messages not yet stored, all partitions.",
                lag,
                "none",
                steps((None, GREEN), (10_000, "orange"), (100_000, "red")),
                width=6,
            )
        )
        .with_panel(
            single(
                "Dead letters / s",
                "Messages or events the collectors could not store.",
                f"sum(rate({sel(C.DEAD_LETTERS)}[{RATE}]))",
                "reqps",
                steps((None, GREEN), (0.01, "orange"), (1, "red")),
                width=6,
            )
        )
        .with_panel(
            trend(
                "Events stored / s",
                "By model, whatever the path (HTTP or Kafka).",
                [
                    (
                        EVENTS_RATE,
                        "{{model}}",
                    )
                ],
                "reqps",
                width=8,
            )
        )
        .with_panel(
            trend(
                "Collector events / s by outcome",
                "stored or duplicate (already stored: redelivery after a rebalance).",
                [(f"sum {by(C.EVENTS, 'outcome')} (rate({sel(C.EVENTS)}[{RATE}]))", "{{outcome}}")],
                "reqps",
                width=8,
            )
        )
        .with_panel(
            trend(
                "Dead letters / s by reason",
                "not_json, invalid_contract, too_large, unknown_model.",
                [
                    (
                        f"sum {by(C.DEAD_LETTERS, 'reason')} (rate({sel(C.DEAD_LETTERS)}[{RATE}]))",
                        "{{reason}}",
                    )
                ],
                "reqps",
                width=8,
            )
        )
        .with_panel(
            trend(
                "Consumer lag by partition",
                "Broker end offset minus committed offset.",
                [
                    (
                        f"sum {by(C.LAG, 'topic', 'partition')} ({sel(C.LAG)})",
                        "{{topic}}/{{partition}}",
                    )
                ],
                "none",
            )
        )
        .with_panel(
            trend(
                "Batch write latency",
                "One poll's events written in one transaction; retries while the database fails.",
                [
                    (_quantile(0.5, sel(C.BATCH_SECONDS, "bucket")), "p50"),
                    (_quantile(0.99, sel(C.BATCH_SECONDS, "bucket")), "p99"),
                    (f"sum(rate({sel(C.DB_RETRIES)}[{RATE}]))", "database retries / s"),
                ],
                "s",
            )
        )
    )


def _detectors(board: dash.Dashboard) -> dash.Dashboard:
    return (
        board.with_row(dash.Row("Detectors and webhooks"))
        .with_panel(
            trend(
                "Scheduled runs / s by outcome",
                "ok, insufficient_data (fewer events than the monitor's minimum) or failed.",
                [(f"sum {by(S.RUNS, 'status')} (rate({sel(S.RUNS)}[{RATE}]))", "{{status}}")],
                "reqps",
                width=8,
            )
        )
        .with_panel(
            trend(
                "Run duration",
                "Scheduled runs (quantiles) and each version's latest run.",
                [
                    (_quantile(0.5, sel(S.RUN_SECONDS, "bucket")), "p50"),
                    (_quantile(0.95, sel(S.RUN_SECONDS, "bucket")), "p95"),
                    (
                        f"max {by(R.LAST_RUN_DURATION, 'model', 'version')} "
                        f"({sel(R.LAST_RUN_DURATION)})",
                        "{{model}} v{{version}}",
                    ),
                ],
                "s",
                width=8,
            )
        )
        .with_panel(
            trend(
                "Scheduler tick age",
                "Time since each scheduler last looked for due windows (ticks every 30 s).",
                [(f"time() - {sel(S.LAST_TICK)}", "{{instance}}")],
                "s",
                width=8,
                thresholds=steps((None, GREEN), (120, "red")),
            )
        )
        .with_panel(
            trend(
                "Webhook outcomes / s",
                "Final outcome of webhook messages: delivered, failed (gave up), suppressed.",
                [
                    (
                        f"sum {by(R.WEBHOOK_DELIVERIES, 'outcome')} "
                        f"(max {by(R.WEBHOOK_DELIVERIES, 'endpoint', 'outcome')} "
                        f"(rate({sel(R.WEBHOOK_DELIVERIES)}[{RATE}])))",
                        "{{outcome}}",
                    )
                ],
                "reqps",
            )
        )
        .with_panel(
            trend(
                "Webhooks pending",
                "Messages waiting for a (re)try, per endpoint.",
                [
                    (
                        f"max {by(R.WEBHOOK_PENDING, 'endpoint')} ({sel(R.WEBHOOK_PENDING)})",
                        "{{endpoint}}",
                    )
                ],
                "none",
            )
        )
    )


def build() -> dash.Dashboard:
    board = (
        dash.Dashboard("Driftline: Pipeline health")
        .uid(UID)
        .tags(["driftline"])
        .description("Is Driftline keeping up? Ingest, collectors, detectors and webhooks.")
        .refresh("30s")
        .time("now-3h", "now")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .with_variable(datasource_variable())
    )
    return _detectors(_ingest(board))
