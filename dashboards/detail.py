""" "Model detail": one model version, why it drifted.

Template variables ``model`` and ``version`` come from the exported series; ``api_url`` is where
users reach the Driftline API, for the links to the latest run and its HTML report.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import dashboard as model

from dashboards.panels import GREEN, datasource_variable, heat, link, single, steps, tabular, trend
from dashboards.promql import by, sel
from driftline.telemetry import RESULTS as R
from driftline.telemetry import MetricSpec

__all__ = ["UID", "build"]

UID = "driftline-model-detail"
MV = {"model": "$model", "version": "$version"}
RUN_LINK = "${api_url}/v1/runs/${__value.raw}"


def _latest(spec: MetricSpec, *labels: str) -> str:
    """The series of this model version, one per ``labels`` (replicas deduplicated)."""
    return f"max {by(spec, *labels)} ({sel(spec, **MV)})"


def _variables(board: dash.Dashboard) -> dash.Dashboard:
    models = f"label_values({R.LAST_RUN_TIMESTAMP.name}, model)"
    versions = f'label_values({R.LAST_RUN_TIMESTAMP.name}{{model="$model"}}, version)'
    refresh = model.VariableRefresh.ON_TIME_RANGE_CHANGED
    return (
        board.with_variable(datasource_variable())
        .with_variable(
            dash.QueryVariable("model")
            .label("Model")
            .query(models)
            .refresh(refresh)
            .datasource(model.DataSourceRef(type_val="prometheus", uid="${datasource}"))
        )
        .with_variable(
            dash.QueryVariable("version")
            .label("Version")
            .query(versions)
            .refresh(refresh)
            .datasource(model.DataSourceRef(type_val="prometheus", uid="${datasource}"))
        )
        .with_variable(
            dash.TextBoxVariable("api_url")
            .label("Driftline API")
            .default_value("http://localhost:8000")
        )
    )


def _verdict(board: dash.Dashboard) -> dash.Dashboard:
    drifted = [
        model.ValueMap(
            options={
                "0": model.ValueMappingResult(text="no drift", color=GREEN),
                "1": model.ValueMappingResult(text="DRIFT", color="red"),
            },
        )
    ]
    latest_run = single(
        "Latest run",
        "Id of the latest completed run; the links open it in the API and its HTML report.",
        _latest(R.LAST_RUN_ID, "model", "version"),
        "none",
        steps((None, "blue")),
    ).data_links([link("Run (JSON)", RUN_LINK), link("HTML report", f"{RUN_LINK}/report")])
    return (
        board.with_row(dash.Row("Verdict"))
        .with_panel(
            single(
                "Dataset",
                "Dataset drift: the drift share reached the monitor's, or a key feature drifted.",
                _latest(R.DATASET_DRIFTED, "model", "version"),
                "none",
                steps((None, GREEN), (1, "red")),
                mappings=drifted,  # type: ignore[arg-type]
            )
        )
        .with_panel(
            single(
                "Drift share",
                "Share of the checked features that drifted.",
                _latest(R.DRIFT_SHARE, "model", "version"),
                "percentunit",
                steps((None, GREEN), (0.25, "orange"), (0.5, "red")),
            )
        )
        .with_panel(
            single(
                "Predictions",
                "Whether the distribution of the model's predictions drifted.",
                _latest(R.PREDICTION_DRIFTED, "model", "version"),
                "none",
                steps((None, GREEN), (1, "red")),
                mappings=drifted,  # type: ignore[arg-type]
            )
        )
        .with_panel(
            single(
                "Label coverage",
                "Share of the window's events with a label: performance below means little "
                "when this is low.",
                _latest(R.LABEL_COVERAGE, "model", "version"),
                "percentunit",
                steps((None, "orange"), (0.1, GREEN)),
            )
        )
        .with_panel(
            single(
                "Last run age",
                "Time since the latest run (any status) finished.",
                f"time() - {_latest(R.LAST_RUN_TIMESTAMP, 'model', 'version')}",
                "s",
                steps((None, GREEN), (900, "orange"), (3600, "red")),
            )
        )
        .with_panel(latest_run)
    )


def _features(board: dash.Dashboard) -> dash.Dashboard:
    return (
        board.with_row(dash.Row("Features"))
        .with_panel(
            heat(
                "Drifted features",
                "One row per feature: red while the feature's latest run called drift.",
                (_latest(R.FEATURE_DRIFTED, "feature"), "{{feature}}"),
            )
        )
        .with_panel(
            trend(
                "Drift statistics",
                "Each feature's statistic (its method in brackets); the thresholds are in the "
                "table below.",
                [(_latest(R.FEATURE_STATISTIC, "feature", "method"), "{{feature}} ({{method}})")],
                "none",
            )
        )
        .with_panel(
            trend(
                "p-values",
                "p-value tests (KS, chi-square, Z): drift when p is at or below the threshold "
                "(0.05 by default) and the effect size reaches its floor.",
                [(_latest(R.FEATURE_P_VALUE, "feature", "method"), "{{feature}} ({{method}})")],
                "none",
                thresholds=steps((None, "red"), (0.05, GREEN)),
            )
        )
        .with_panel(
            tabular(
                "Latest per-feature results",
                "The latest completed run, one row per feature.",
                [
                    ("statistic", _latest(R.FEATURE_STATISTIC, "feature", "method")),
                    ("p-value", _latest(R.FEATURE_P_VALUE, "feature", "method")),
                    ("effect size", _latest(R.FEATURE_EFFECT_SIZE, "feature", "method")),
                    ("threshold", _latest(R.FEATURE_THRESHOLD, "feature", "method")),
                    ("drifted", _latest(R.FEATURE_DRIFTED, "feature")),
                    ("PSI", _latest(R.FEATURE_PSI, "feature")),
                    ("sample", _latest(R.FEATURE_SAMPLE_SIZE, "feature", "sample")),
                ],
                join_on=["feature", "method"],
            )
        )
    )


def _outputs(board: dash.Dashboard) -> dash.Dashboard:
    return (
        board.with_row(dash.Row("Predictions, performance, data quality, segments"))
        .with_panel(
            trend(
                "Prediction drift",
                "Drift statistic of the predictions against the reference's.",
                [(_latest(R.PREDICTION_STATISTIC, "method"), "{{method}}")],
                "none",
                width=8,
            )
        )
        .with_panel(
            trend(
                "Performance",
                "Metrics on the window's labelled events.",
                [(_latest(R.PERFORMANCE, "metric"), "{{metric}}")],
                "none",
                width=8,
            )
        )
        .with_panel(
            trend(
                "Label coverage over time",
                "Share of the window's events that have a label.",
                [(_latest(R.LABEL_COVERAGE, "model", "version"), "coverage")],
                "percentunit",
                width=8,
            )
        )
        .with_panel(
            trend(
                "Data quality",
                "Share of values missing, of the wrong type, outside the reference's range, "
                "or of categories the reference never had.",
                [(_latest(R.DATA_QUALITY, "feature", "check"), "{{feature}} {{check}}")],
                "percentunit",
            )
        )
        .with_panel(
            trend(
                "Segments: drift share",
                "Drift share within each segment (the monitor's segment tags).",
                [(_latest(R.SEGMENT_DRIFT_SHARE, "segment"), "{{segment}}")],
                "percentunit",
                thresholds=steps((None, GREEN), (0.5, "red")),
            )
        )
    )


def build() -> dash.Dashboard:
    board = (
        dash.Dashboard("Driftline: Model detail")
        .uid(UID)
        .tags(["driftline"])
        .description("Why is this model version drifting? Per-feature evidence over time.")
        .refresh("30s")
        .time("now-24h", "now")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .link(link("Runs in the API", "${api_url}/v1/models/${model}/drift?version=${version}"))
    )
    return _outputs(_features(_verdict(_variables(board))))
