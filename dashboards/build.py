"""Render the dashboards to ``grafana/dashboards/*.json`` (``driftline dashboards build``), or
report which committed files differ from what the code builds (``--check``, run in CI)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards import detail, overview, pipeline

__all__ = ["BUILDERS", "DEFAULT_DIR", "check", "expressions", "render", "write"]

DEFAULT_DIR = Path("grafana/dashboards")
BUILDERS: dict[str, Callable[[], dash.Dashboard]] = {
    overview.UID: overview.build,
    detail.UID: detail.build,
    pipeline.UID: pipeline.build,
}


def _number_panels(board: dict[str, Any]) -> None:
    # Stable ids in build order, so the JSON only changes when the dashboards do.
    number = 0
    for panel in board.get("panels", []):
        for item in [panel, *panel.get("panels", [])]:
            number += 1
            item["id"] = number


def render() -> dict[str, str]:
    """File name -> JSON text (bare dashboard model, as file provisioning reads it)."""
    files = {}
    for uid, builder in BUILDERS.items():
        board = json.loads(json.dumps(builder().build(), cls=JSONEncoder))
        _number_panels(board)
        files[f"{uid}.json"] = json.dumps(board, indent=2, sort_keys=True) + "\n"
    return files


def write(directory: Path = DEFAULT_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written


def check(directory: Path = DEFAULT_DIR) -> list[str]:
    """Problems that make the committed JSON stale; empty when it is current."""
    expected = render()
    problems = []
    for name, text in expected.items():
        path = directory / name
        if not path.exists():
            problems.append(f"{path} is missing")
        elif path.read_text() != text:
            problems.append(f"{path} differs from what the code builds")
    for path in sorted(directory.glob("*.json")):
        if path.name not in expected:
            problems.append(f"{path} is not built by the code (remove it)")
    return problems


def expressions(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(panel title, PromQL) of every query in a rendered dashboard, variables included."""
    for panel in board.get("panels", []):
        for item in [panel, *panel.get("panels", [])]:
            for target in item.get("targets") or []:
                yield item.get("title", ""), target["expr"]
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            yield f"variable {variable['name']}", str(variable["query"])
