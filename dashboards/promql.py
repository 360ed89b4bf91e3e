"""PromQL pieces built from the metric catalogue, so a panel cannot name a metric or a label
that Driftline does not export (a wrong label raises when the dashboards are built).

>>> from driftline.telemetry import RESULTS
>>> sel(RESULTS.DRIFT_SHARE, model="$model")
'driftline_dataset_drift_share{model="$model"}'
>>> by(RESULTS.DRIFT_SHARE, "model")
'by (model)'
"""

from __future__ import annotations

from driftline.telemetry import MetricSpec, series_names

__all__ = ["RATE", "Regex", "by", "sel"]

# Grafana's own step-aware window for rate(); the acceptance test substitutes a fixed one.
RATE = "$__rate_interval"


class Regex(str):
    """A matcher value compared with ``=~`` instead of ``=``."""

    __slots__ = ()


def _check_labels(spec: MetricSpec, labels: tuple[str, ...] | list[str]) -> None:
    allowed = set(spec.labels) | ({"le"} if spec.kind == "histogram" else set())
    unknown = [label for label in labels if label not in allowed]
    if unknown:
        raise KeyError(f"{spec.name} has no label {', '.join(unknown)} (has {spec.labels})")


def sel(spec: MetricSpec, series: str = "", **matchers: str) -> str:
    """An instant-vector selector; ``series`` picks ``bucket``/``sum``/``count`` of a histogram."""
    _check_labels(spec, list(matchers))
    name = f"{spec.name}_{series}" if series else spec.name
    if name not in series_names(spec):
        raise KeyError(f"{name} is not a series of {spec.name}")
    if not matchers:
        return name
    parts = ",".join(
        f'{label}{"=~" if isinstance(value, Regex) else "="}"{value}"'
        for label, value in matchers.items()
    )
    return f"{name}{{{parts}}}"


def by(spec: MetricSpec, *labels: str) -> str:
    """An aggregation's grouping clause, checked against the metric's labels."""
    _check_labels(spec, labels)
    return f"by ({', '.join(labels)})"
