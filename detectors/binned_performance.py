"""Performance metrics from the labelled sums of a window's aggregate.

The same metrics and conventions as ``detectors.performance`` (which scikit-learn computes on
the raw path): accuracy, precision, recall and F1 exactly from the confusion counts, log loss
exactly from the sums of logarithms, regression errors exactly from their sums. ROC AUC comes
from the score histograms: pairs whose scores fall in different bins are ordered exactly,
pairs in one bin count one half, so the error is at most half the share of such pairs; that
bound is reported as ``roc_auc_bound``.

>>> from driftline.aggregates.labelled import classification_sums
>>> s = classification_sums([("1", "1", 0.9), ("0", "0", 0.2), ("1", "0", 0.4), ("1", "1", 0.8)])
>>> p = performance_from("binary_classification", s, 4)
>>> p["accuracy"], p["recall"], p["roc_auc"], p["label_coverage"]
(0.75, 0.6666666666666666, 1.0, 1.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from detectors.performance import positive_class
from driftline.aggregates.labelled import SCORE_BINS, SEPARATOR

__all__ = ["performance_from"]


def _scores(scores: dict[str, Any], labels: list[str], positive: str) -> dict[str, Any]:
    """Histograms and log sums of the probability of ``positive``, split by the truth."""
    hist = {True: np.zeros(SCORE_BINS), False: np.zeros(SCORE_BINS)}
    logs = {True: 0.0, False: 0.0}
    for label in labels:
        truth = label == positive
        for key in ("", positive):  # a plain number, or the positive class's entry of a dict
            entry = scores.get(label, {}).get(key)
            if entry is None:
                continue
            for b, n in entry["hist"].items():
                hist[truth][int(b)] += n
            logs[truth] += entry["log_p"] if truth else entry["log_q"]
    return {"hist": hist, "logs": logs}


def _auc(positives: np.ndarray, negatives: np.ndarray) -> tuple[float, float]:
    below = np.concatenate(([0.0], np.cumsum(negatives)[:-1]))
    pairs = positives.sum() * negatives.sum()
    auc = float((positives * (below + 0.5 * negatives)).sum() / pairs)
    return auc, float(0.5 * (positives * negatives).sum() / pairs)


def _rates(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return precision, recall, f1


def _classification(sums: dict[str, Any], out: dict[str, float | None]) -> None:
    confusion: dict[tuple[str, str], int] = {}
    for key, n in sums["confusion"].items():
        truth, predicted = key.split(SEPARATOR, 1)
        confusion[(truth, predicted)] = confusion.get((truth, predicted), 0) + n
    n = sum(confusion.values())
    truths = sorted({t for t, _ in confusion})
    classes = sorted({c for pair in confusion for c in pair})
    out["accuracy"] = sum(v for (t, p), v in confusion.items() if t == p) / n

    def counts(c: str) -> tuple[int, int, int]:
        tp = confusion.get((c, c), 0)
        fp = sum(v for (t, p), v in confusion.items() if p == c and t != c)
        fn = sum(v for (t, p), v in confusion.items() if t == c and p != c)
        return tp, fp, fn

    positive = ""
    if len(classes) <= 2:
        positive = positive_class(classes)
        out["precision"], out["recall"], out["f1"] = _rates(*counts(positive))
    else:
        rates = np.array([_rates(*counts(c)) for c in classes])
        out["precision"], out["recall"], out["f1"] = (float(v) for v in rates.mean(axis=0))
    out["roc_auc"] = out["log_loss"] = None
    if positive:
        scored = _scores(sums["scores"], truths, positive)
        hist, logs = scored["hist"], scored["logs"]
        if hist[True].sum() and hist[False].sum():  # both classes are needed for AUC
            out["roc_auc"], out["roc_auc_bound"] = _auc(hist[True], hist[False])
            total = hist[True].sum() + hist[False].sum()
            out["log_loss"] = float(-(logs[True] + logs[False]) / total)


def performance_from(
    task: str, sums: dict[str, Any] | None, n_events: int
) -> dict[str, float | None]:
    """The run's ``performance`` from the window's summed labelled sums (None: no labels)."""
    labelled = int(sums["n"]) if sums else 0
    out: dict[str, float | None] = {
        "label_coverage": labelled / n_events if n_events else 0.0,
        "labelled_events": float(labelled),
    }
    if not labelled or sums is None:
        return out
    if task == "regression":
        out["mae"] = sums["abs"] / labelled
        out["rmse"] = math.sqrt(sums["sq"] / labelled)
        out["mape"] = sums["ape"] / sums["ape_n"] if sums["ape_n"] else None
        return out
    _classification(sums, out)
    return out
