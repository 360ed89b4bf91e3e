"""Alert rules: what each kind checks, the defaults every model gets, and storing them.

Defaults (created when a model is registered; change them with
``PUT /v1/models/{name}/alert-rules/{rule}``):

| rule | kind | severity | fires after | checks |
| --- | --- | --- | --- | --- |
| dataset_drift | drift_share | warning | 2 of 3 runs | run's drift share >= the monitor's |
| key_feature_drift | key_feature_drift | critical | 2 of 3 runs | each key feature drifted |
| prediction_drift | prediction_drift | warning | 2 of 3 runs | the prediction's distribution |
| performance_drop | performance | warning | 2 of 3 runs | metric worse than baseline by 10% |
| data_quality | data_quality | warning | 2 of 3 runs | missing rate, unseen, type errors |
| no_data | no_data | critical | 1 check | no events for 30 minutes |

Each resolves after 2 consecutive clear runs (``no_data``: as soon as events arrive).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from driftline.core.errors import ConflictError, NotFoundError
from driftline.core.storage import tables as t

__all__ = [
    "DRIFT_KINDS",
    "RuleKind",
    "RuleSpec",
    "Severity",
    "create_default_rules",
    "default_rules",
    "delete_rule",
    "list_rules",
    "put_rule",
]

RuleKind = Literal[
    "drift_share", "key_feature_drift", "prediction_drift", "performance", "data_quality", "no_data"
]
Severity = Literal["info", "warning", "critical"]
# Silenced (inhibited) while the same model's "no data" alert fires: without data they are noise.
DRIFT_KINDS = frozenset({"drift_share", "key_feature_drift", "prediction_drift", "data_quality"})

RuleName = str


class RuleSpec(BaseModel):
    """One rule as the API shows and accepts it."""

    model_config = ConfigDict(extra="forbid")

    name: RuleName = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    kind: RuleKind
    severity: Severity = "warning"
    version: str | None = Field(None, description="Only this model version (default: every one).")
    params: dict[str, float | str | None] = Field(
        default_factory=dict,
        description="Kind-specific thresholds; see docs/alerting.md. Unset ones use defaults.",
    )
    for_runs: int = Field(2, ge=1, le=100, description="Fire when the condition held in ...")
    of_runs: int = Field(3, ge=1, le=100, description="... this many most recent evaluations.")
    clear_runs: int = Field(2, ge=1, le=100, description="Resolve after this many clear runs.")
    labels: dict[str, str] = Field(default_factory=dict, max_length=20)
    enabled: bool = True

    @model_validator(mode="after")
    def _window(self) -> RuleSpec:
        if self.for_runs > self.of_runs:
            raise ValueError("for_runs must not exceed of_runs")
        return self


def default_rules(task: str, no_data_minutes: float = 30.0) -> list[RuleSpec]:
    """The rules a new model starts with (see the module's table)."""
    metric = "rmse" if task == "regression" else "accuracy"
    return [
        RuleSpec(name="dataset_drift", kind="drift_share"),
        RuleSpec(name="key_feature_drift", kind="key_feature_drift", severity="critical"),
        RuleSpec(name="prediction_drift", kind="prediction_drift"),
        RuleSpec(
            name="performance_drop",
            kind="performance",
            params={"metric": metric, "max_relative_drop": 0.1},
        ),
        RuleSpec(name="data_quality", kind="data_quality"),
        RuleSpec(
            name="no_data",
            kind="no_data",
            severity="critical",
            params={"minutes": no_data_minutes},
            for_runs=1,
            of_runs=1,
            clear_runs=1,
        ),
    ]


def _spec(row: t.AlertRule) -> RuleSpec:
    return RuleSpec(
        name=row.name,
        kind=row.kind,
        severity=row.severity,
        version=row.version,
        params=row.params,
        for_runs=row.for_runs,
        of_runs=row.of_runs,
        clear_runs=row.clear_runs,
        labels=row.labels,
        enabled=row.enabled,
    )


def _apply(row: t.AlertRule, spec: RuleSpec, now: datetime) -> None:
    values: dict[str, Any] = spec.model_dump(exclude={"name"})
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = now


def create_default_rules(
    session: Session, model_id: int, task: str, now: datetime, no_data_minutes: float = 30.0
) -> None:
    for spec in default_rules(task, no_data_minutes):
        row = t.AlertRule(model_id=model_id, name=spec.name, created_at=now)
        _apply(row, spec, now)
        session.add(row)


def list_rules(session: Session, model: t.Model) -> list[RuleSpec]:
    rows = session.scalars(
        select(t.AlertRule).where(t.AlertRule.model_id == model.id).order_by(t.AlertRule.id)
    )
    return [_spec(r) for r in rows]


def put_rule(session: Session, model: t.Model, spec: RuleSpec, now: datetime) -> RuleSpec:
    """Create or replace the rule named ``spec.name``; its alerts keep their fingerprints."""
    row = session.scalar(
        select(t.AlertRule).where(t.AlertRule.model_id == model.id, t.AlertRule.name == spec.name)
    )
    if row is None:
        row = t.AlertRule(model_id=model.id, name=spec.name, created_at=now)
        session.add(row)
    elif row.kind != spec.kind:
        raise ConflictError(f"rule {spec.name!r} is a {row.kind} rule; delete it to change kind")
    _apply(row, spec, now)
    session.flush()
    return _spec(row)


def delete_rule(session: Session, model: t.Model, name: str) -> None:
    row = session.scalar(
        select(t.AlertRule).where(t.AlertRule.model_id == model.id, t.AlertRule.name == name)
    )
    if row is None:
        raise NotFoundError(f"model {model.name!r} has no alert rule {name!r}")
    session.delete(row)
