"""Panel builders shared by the dashboards: every query is a typed Prometheus query with its
``ref_id`` set (the SDK leaves it empty), on the dashboard's ``datasource`` variable."""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import heatmap, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.heatmap import HeatmapColorMode
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

__all__ = [
    "DATASOURCE",
    "GREEN",
    "Query",
    "datasource_variable",
    "heat",
    "link",
    "single",
    "steps",
    "tabular",
    "trend",
]

DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
GREEN, ORANGE, RED = "green", "orange", "red"
Query = tuple[str, str]  # (PromQL, legend)


def datasource_variable() -> dash.DatasourceVariable:
    return dash.DatasourceVariable("datasource").label("Prometheus").type("prometheus")


def steps(*pairs: tuple[float | None, str]) -> dash.ThresholdsConfig:
    """Absolute thresholds: ``(None, "green"), (0.5, "red")`` means red from 0.5 up."""
    return (
        dash.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=v, color=c) for v, c in pairs])
    )


def _targets(
    queries: Sequence[Query], instant: bool, table_format: bool = False
) -> list[cogbuilder.Builder[object]]:
    out: list[cogbuilder.Builder[object]] = []
    for i, (expr, legend) in enumerate(queries):
        q = prometheus.Dataquery().expr(expr).ref_id(chr(ord("A") + i)).datasource(DATASOURCE)
        q = q.instant() if instant else q.range()
        if legend:
            q = q.legend_format(legend)
        if table_format:
            q = q.format(PromQueryFormat.TABLE)
        out.append(q)
    return out


def link(title: str, url: str) -> dash.DashboardLink:
    return dash.DashboardLink(title).type(model.DashboardLinkType.LINK).url(url).target_blank(True)


def single(
    title: str,
    description: str,
    expr: str,
    unit: str,
    thresholds: dash.ThresholdsConfig,
    width: int = 4,
    mappings: list[model.ValueMapping] | None = None,
) -> stat.Panel:
    """One big number, coloured by ``thresholds`` (the traffic light)."""
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets([(expr, "")], instant=True))  # type: ignore[arg-type]
        .unit(unit)
        .thresholds(thresholds)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]))
        .height(4)
        .span(width)
    )
    if mappings:
        panel = panel.mappings(mappings)
    return panel


def trend(
    title: str,
    description: str,
    queries: Sequence[Query],
    unit: str,
    width: int = 12,
    thresholds: dash.ThresholdsConfig | None = None,
) -> timeseries.Panel:
    """Values over time, one line per series."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries, instant=False))  # type: ignore[arg-type]
        .unit(unit)
        .height(8)
        .span(width)
    )
    if thresholds is not None:
        panel = panel.thresholds(thresholds).thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.LINE)
        )
    return panel


def heat(title: str, description: str, query: Query, width: int = 24) -> heatmap.Panel:
    """One row per series (not a calculated histogram): red cells where the value is 1."""
    return (
        heatmap.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets([query], instant=False))  # type: ignore[arg-type]
        .calculate(False)
        .color(
            heatmap.HeatmapColorOptions()
            .mode(HeatmapColorMode.SCHEME)
            .scheme("RdYlGn")
            .reverse(True)
            .min(0)
            .max(1)
        )
        .height(8)
        .span(width)
    )


def tabular(
    title: str,
    description: str,
    columns: Sequence[tuple[str, str]],
    join_on: Sequence[str],
    width: int = 24,
    colors: dict[str, dash.ThresholdsConfig] | None = None,
) -> table.Panel:
    """One row per ``join_on`` labels, one column per instant query (``columns``: header,
    PromQL), merged by Grafana's "merge" transformation; ``colors`` paints a column's cells
    by its thresholds (the traffic light)."""
    rename = {f"Value #{chr(ord('A') + i)}": header for i, (header, _) in enumerate(columns)}
    panel = (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets([(expr, "") for _, expr in columns], True, True))  # type: ignore[arg-type]
        .with_transformation(model.DataTransformerConfig(id_val="merge", options={}))
        .with_transformation(
            model.DataTransformerConfig(
                id_val="organize",
                options={
                    "excludeByName": {"Time": True},
                    "indexByName": {name: i for i, name in enumerate([*join_on, *rename])},
                    "renameByName": rename,
                },
            )
        )
        .height(9)
        .span(width)
    )
    for header, thresholds in (colors or {}).items():
        panel = panel.override_by_name(
            header,
            [
                model.DynamicConfigValue(id_val="thresholds", value=thresholds.build()),
                model.DynamicConfigValue(
                    id_val="custom.cellOptions", value={"type": "color-background"}
                ),
            ],
        )
    return panel
