"""The alert's evidence as retraining systems receive it, read from a stored Driftline body.

Deliveries store the ``driftline`` payload (``docs/webhooks.md``); a preset reads it back when
it builds the request. Systems that take JSON (GitHub's ``client_payload``, Airflow's ``conf``)
get :attr:`Evidence.payload`, ten top-level properties (GitHub's limit). Systems that want
strings (GitLab variables, Jenkins parameters, Kubeflow and Argo parameters) get
:meth:`Evidence.flat`: ``DRIFTLINE_<NAME>`` or ``driftline_<name>`` for each of
:data:`PARAMETER_NAMES`, missing values as empty strings. The names are documented in
``docs/integrations.md`` (Retraining triggers).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = ["PARAMETER_NAMES", "Evidence", "ParameterName", "evidence_of"]

ParameterName = Literal[
    "status",
    "model",
    "model_version",
    "rule",
    "severity",
    "run_id",
    "window_start",
    "window_end",
    "reference_hash",
    "drift_share",
    "drifted_count",
    "drifted_features",
    "features_json",
    "run_url",
    "report_url",
    "dashboard_url",
    "webhook_id",
]
PARAMETER_NAMES: tuple[str, ...] = get_args(ParameterName)

MAX_FEATURES = 50
# GitHub refuses a client_payload of 64 KB or more; the feature list is the only part that
# grows with the model, so it is cut to stay well below that (links.run has them all).
MAX_FEATURES_BYTES = 32 * 1024
_FEATURE_FIELDS = ("feature", "method", "statistic", "p_value", "effect_size", "threshold", "psi")


def _features(body: dict[str, Any]) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    size = 2
    for entry in body.get("drifted_features") or []:
        # Segment alerts list bare feature names; feature-level alerts list their statistics.
        item = {"feature": entry} if isinstance(entry, str) else entry
        if not isinstance(item, dict):
            continue
        feature = {name: item.get(name) for name in _FEATURE_FIELDS}
        size += len(json.dumps(feature, separators=(",", ":"))) + 1
        if len(kept) == MAX_FEATURES or size > MAX_FEATURES_BYTES:
            break
        kept.append(feature)
    return kept


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Evidence:
    """One message's evidence; ``payload`` is the nested form."""

    payload: dict[str, Any]
    message_id: str

    def flat(self, *, upper: bool, only: Sequence[str] | None = None) -> dict[str, str]:
        """String parameters, ``DRIFTLINE_MODEL`` (``upper``) or ``driftline_model``, in the
        order of :data:`PARAMETER_NAMES`; ``only`` keeps those names."""
        p = self.payload
        run = p["run"] or {}
        links = p["links"] or {}
        features = p["drifted_features"]
        values: dict[str, Any] = {
            "status": p["status"],
            "model": p["model"],
            "model_version": p["version"],
            "rule": p["rule"],
            "severity": p["severity"],
            "run_id": run.get("id"),
            "window_start": run.get("window_start"),
            "window_end": run.get("window_end"),
            "reference_hash": run.get("reference_hash"),
            "drift_share": run.get("drift_share"),
            "drifted_count": p["drifted_count"],
            "drifted_features": ",".join(str(f["feature"]) for f in features),
            "features_json": features,
            "run_url": links.get("run"),
            "report_url": links.get("report"),
            "dashboard_url": links.get("dashboard"),
            "webhook_id": p["webhook_id"],
        }
        chosen = PARAMETER_NAMES if only is None else [n for n in PARAMETER_NAMES if n in only]
        prefix = "DRIFTLINE_" if upper else "driftline_"
        return {prefix + (name.upper() if upper else name): _text(values[name]) for name in chosen}


def evidence_of(body: bytes, message_id: str) -> Evidence:
    """The evidence in a stored ``driftline`` body (an alert or a test message).

    Raises ``ValueError`` when the body is not a JSON object.
    """
    parsed = json.loads(body)
    if not isinstance(parsed, dict):
        raise ValueError("the stored message is not a JSON object")
    run = parsed.get("run")
    links = parsed.get("links")
    features = _features(parsed)
    payload = {
        "status": parsed.get("status"),
        "model": parsed.get("model"),
        "version": parsed.get("version"),
        "rule": parsed.get("rule"),
        "severity": parsed.get("severity"),
        "run": run if isinstance(run, dict) else None,
        "drifted_features": features,
        "drifted_count": len(parsed.get("drifted_features") or []),
        "links": links if isinstance(links, dict) else None,
        "webhook_id": message_id,
    }
    return Evidence(payload, message_id)
