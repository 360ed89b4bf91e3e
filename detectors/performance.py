"""Model performance on the labelled events of a window (pure computation).

Classification: accuracy, precision, recall and F1 (binary: of the positive class; multiclass:
macro averages), ROC AUC and log loss when scores were logged. Regression: MAE, RMSE and MAPE
(MAPE skips labels equal to 0). Label coverage is always reported, since metrics computed on a
small labelled share can mislead.

>>> p = classification(["1", "0", "1", "1"], ["1", "0", "0", "1"], [0.9, 0.2, 0.4, 0.8], 4)
>>> p["accuracy"], p["recall"], p["roc_auc"], p["label_coverage"]
(0.75, 0.6666666666666666, 1.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn import metrics

__all__ = ["classification", "positive_class", "regression"]


def positive_class(labels: Sequence[str]) -> str:
    """ "1" or "true" when present (the usual binary encodings), else the last class."""
    classes = sorted(set(labels))
    for candidate in ("1", "true", "True", "yes"):
        if candidate in classes:
            return candidate
    return classes[-1]


def _probability(score: Any, positive: str) -> float | None:
    if isinstance(score, dict):
        value = score.get(positive)
        return float(value) if isinstance(value, int | float) else None
    return float(score) if isinstance(score, int | float) else None


def classification(
    labels: Sequence[str], predictions: Sequence[str], scores: Sequence[Any], n_events: int
) -> dict[str, float | None]:
    """Metrics over labelled events; ``scores`` may hold ``None`` where none was logged."""
    out: dict[str, float | None] = {
        "label_coverage": len(labels) / n_events if n_events else 0.0,
        "labelled_events": float(len(labels)),
    }
    if not labels:
        return out
    y_true, y_pred = [str(v) for v in labels], [str(v) for v in predictions]
    classes = sorted(set(y_true) | set(y_pred))
    out["accuracy"] = float(metrics.accuracy_score(y_true, y_pred))
    if len(classes) <= 2:
        positive = positive_class(y_true + y_pred)
        kwargs: dict[str, Any] = {"pos_label": positive, "average": "binary"}
    else:
        positive, kwargs = "", {"average": "macro"}
    out["precision"] = float(metrics.precision_score(y_true, y_pred, zero_division=0, **kwargs))
    out["recall"] = float(metrics.recall_score(y_true, y_pred, zero_division=0, **kwargs))
    out["f1"] = float(metrics.f1_score(y_true, y_pred, zero_division=0, **kwargs))
    out["roc_auc"] = out["log_loss"] = None
    if positive:
        probabilities = [_probability(s, positive) for s in scores]
        pairs = [
            (t == positive, p)
            for t, p in zip(y_true, probabilities, strict=True)
            if p is not None and 0.0 <= p <= 1.0
        ]
        truth = [int(t) for t, _ in pairs]
        if pairs and len(set(truth)) == 2:  # both classes are needed for AUC
            probs = [p for _, p in pairs]
            out["roc_auc"] = float(metrics.roc_auc_score(truth, probs))
            out["log_loss"] = float(metrics.log_loss(truth, probs, labels=[0, 1]))
    return out


def regression(
    labels: Sequence[float], predictions: Sequence[float], n_events: int
) -> dict[str, float | None]:
    out: dict[str, float | None] = {
        "label_coverage": len(labels) / n_events if n_events else 0.0,
        "labelled_events": float(len(labels)),
    }
    if not labels:
        return out
    y, p = np.asarray(labels, dtype=np.float64), np.asarray(predictions, dtype=np.float64)
    errors = p - y
    out["mae"] = float(np.mean(np.abs(errors)))
    out["rmse"] = float(math.sqrt(np.mean(errors**2)))
    nonzero = y != 0
    out["mape"] = float(np.mean(np.abs(errors[nonzero] / y[nonzero]))) if nonzero.any() else None
    return out
