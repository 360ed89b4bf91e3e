"""The demo's closing summary: a table for people, the same facts as JSON for tests."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["DemoSummary", "FeatureLine"]


@dataclass
class FeatureLine:
    feature: str
    shifted: bool
    drifted: bool
    method: str
    statistic: float | None
    p_value: float | None
    effect_size: float | None
    psi: float | None


@dataclass
class DemoSummary:
    transport: str
    normal_run_drifted: list[str]
    features: list[FeatureLine]
    alert_rule: str
    alert_state: str
    webhook_verified: bool
    webhook_latency_s: float
    performance: dict[str, float | None] | None
    urls: dict[str, str]
    seconds: float
    report_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def drifted(self) -> list[str]:
        return [f.feature for f in self.features if f.drifted]

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps({**asdict(self), "drifted": self.drifted}, indent=2))

    def show(self, console: Console) -> None:
        table = Table(title="Features checked on the shifted traffic", title_justify="left")
        for column in (
            "feature",
            "shifted by the demo",
            "drift",
            "method",
            "statistic",
            "p-value",
            "effect size",
            "PSI",
        ):
            table.add_column(column)
        for f in self.features:
            table.add_row(
                f.feature,
                "yes" if f.shifted else "",
                "[bold red]DRIFT[/]" if f.drifted else "[green]ok[/]",
                f.method,
                _num(f.statistic),
                _num(f.p_value),
                _num(f.effect_size),
                _num(f.psi),
            )
        console.print(table)
        outcome = Table(show_header=False, title="Outcome", title_justify="left")
        outcome.add_column(style="bold")
        outcome.add_column()
        outcome.add_row("transport", self.transport)
        outcome.add_row("normal traffic", ", ".join(self.normal_run_drifted) or "no drift")
        outcome.add_row("alert", f"{self.alert_rule}: {self.alert_state}")
        verified = "signature verified" if self.webhook_verified else "NOT verified"
        latency = f"{self.webhook_latency_s:.1f} s after firing"
        outcome.add_row("webhook", f"delivered, {verified}, {latency}")
        if self.performance:
            accuracy = _num(self.performance.get("accuracy"))
            coverage = _num(self.performance.get("label_coverage"))
            outcome.add_row("performance", f"accuracy {accuracy}, label coverage {coverage}")
        outcome.add_row("took", f"{self.seconds:.0f} s")
        console.print(outcome)
        links = Table(show_header=False, title="Open", title_justify="left")
        links.add_column(style="bold")
        links.add_column()
        for name, url in self.urls.items():
            links.add_row(name, url)
        console.print(links)


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
