""" "Model overview": every model on one screen, traffic lights first.

Healthy is green everywhere: no model drifting, no alert firing, every monitor run recently.
Queries take ``max`` over identical series, since every API replica reports the same values.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import dashboard as model

from dashboards.panels import GREEN, datasource_variable, single, steps, tabular, trend
from dashboards.promql import RATE, by, sel
from driftline.telemetry import RESULTS as R

__all__ = ["UID", "build"]

UID = "driftline-overview"
STALE_S = 3 * 300  # three default monitor intervals without a run

DRIFT_SHARE = f"max {by(R.DRIFT_SHARE, 'model')} ({sel(R.DRIFT_SHARE)})"
DRIFTED_FEATURES = f"max {by(R.DRIFTED_FEATURES, 'model')} ({sel(R.DRIFTED_FEATURES)})"
ALERTS = (
    f"sum {by(R.ALERTS_FIRING, 'model')} "
    f"(max {by(R.ALERTS_FIRING, 'model', 'severity')} ({sel(R.ALERTS_FIRING)}))"
)
EVENTS_RATE = f"max {by(R.EVENTS_STORED, 'model')} (rate({sel(R.EVENTS_STORED)}[{RATE}]))"
RUN_AGE = f"time() - max {by(R.LAST_RUN_TIMESTAMP, 'model')} ({sel(R.LAST_RUN_TIMESTAMP)})"


def _stats(board: dash.Dashboard) -> dash.Dashboard:
    return (
        board.with_panel(
            single(
                "Models drifting",
                "Models whose latest completed run found dataset drift.",
                f"count(max {by(R.DATASET_DRIFTED, 'model')} ({sel(R.DATASET_DRIFTED)}) == 1)"
                " or vector(0)",
                "none",
                steps((None, GREEN), (1, "red")),
                width=6,
            )
        )
        .with_panel(
            single(
                "Critical alerts firing",
                "Driftline alerts of severity critical, all models.",
                f"sum(max {by(R.ALERTS_FIRING, 'model', 'severity')} "
                f"({sel(R.ALERTS_FIRING, severity='critical')}))",
                "none",
                steps((None, GREEN), (1, "red")),
                width=6,
            )
        )
        .with_panel(
            single(
                "Stale monitors",
                f"Model versions whose latest run is older than {STALE_S // 60} minutes.",
                f"count((time() - max {by(R.LAST_RUN_TIMESTAMP, 'model', 'version')} "
                f"({sel(R.LAST_RUN_TIMESTAMP)})) > {STALE_S}) or vector(0)",
                "none",
                steps((None, GREEN), (1, "orange")),
                width=6,
            )
        )
        .with_panel(
            single(
                "Events stored / s",
                "Prediction events stored per second, all models (HTTP and Kafka).",
                f"sum({EVENTS_RATE})",
                "reqps",
                steps((None, "blue")),
                width=6,
            )
        )
    )


def build() -> dash.Dashboard:
    board = (
        dash.Dashboard("Driftline: Model overview")
        .uid(UID)
        .tags(["driftline"])
        .description("Is every model healthy? Drift, alerts, traffic and run freshness per model.")
        .refresh("30s")
        .time("now-6h", "now")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .with_variable(datasource_variable())
        .link(
            dash.DashboardLink("Driftline dashboards")
            .type(model.DashboardLinkType.DASHBOARDS)
            .tags(["driftline"])
            .as_dropdown(True)
            .keep_time(True)
        )
    )
    board = _stats(board.with_row(dash.Row("At a glance")))
    board = board.with_panel(
        tabular(
            "Models",
            "One row per model. Red cells need attention: drift share at or above 0.5, "
            "any alert firing, no run for 15 minutes.",
            [
                ("Drift share", DRIFT_SHARE),
                ("Drifted features", DRIFTED_FEATURES),
                ("Alerts firing", ALERTS),
                ("Events / s", EVENTS_RATE),
                ("Last run age", RUN_AGE),
            ],
            join_on=["model"],
            colors={
                "Drift share": steps((None, GREEN), (0.25, "orange"), (0.5, "red")),
                "Drifted features": steps((None, GREEN), (1, "orange")),
                "Alerts firing": steps((None, GREEN), (1, "red")),
                "Events / s": steps((None, "red"), (0.000001, GREEN)),
                "Last run age": steps((None, GREEN), (STALE_S, "red")),
            },
        )
    )
    return (
        board.with_row(dash.Row("Over time"))
        .with_panel(
            trend(
                "Drift share by model",
                "Share of features drifted in each model's latest completed run.",
                [(DRIFT_SHARE, "{{model}}")],
                "percentunit",
                width=8,
                thresholds=steps((None, GREEN), (0.5, "red")),
            )
        )
        .with_panel(
            trend(
                "Alerts firing by model",
                "Driftline alerts firing (all severities).",
                [(ALERTS, "{{model}}")],
                "none",
                width=8,
            )
        )
        .with_panel(
            trend(
                "Events stored / s by model",
                "Ingest throughput per model; a drop to 0 means the model stopped logging.",
                [(EVENTS_RATE, "{{model}}")],
                "reqps",
                width=8,
            )
        )
    )
