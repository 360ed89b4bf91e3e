"""Sums over labelled events that the performance metrics need, mergeable like the rest.

Classification keeps the confusion counts by (label, prediction), as text like the raw path
(``detectors.performance``), and for scores a histogram over ``SCORE_BINS`` equal bins of [0, 1]
plus the sums of log(p) and log(1 - p) (clipped as scikit-learn's ``log_loss`` clips), per true
label and per score key: ``""`` for a single number, else the class a score dictionary names.
The positive class is only known when a window is evaluated, so the sums are kept per key.
Regression keeps the error sums (absolute, squared, absolute percentage).

>>> s = classification_sums([("1", "1", 0.9), ("0", "1", 0.6), ("0", "0", 0.1)])
>>> s["n"], s["confusion"]
(3, {'1\\x1f1': 1, '0\\x1f1': 1, '0\\x1f0': 1})
>>> merge_performance(s, s)["n"]
6
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "SCORE_BINS",
    "SEPARATOR",
    "classification_sums",
    "merge_performance",
    "regression_sums",
]

# 1,000 score bins: AUC is exact except for pairs in one bin, bounded in detectors.binned.
SCORE_BINS = 1000
SEPARATOR = "\x1f"
_EPS = float(np.finfo(np.float64).eps)
_MAX_SCORE_KEYS = 20


def _probabilities(score: Any) -> list[tuple[str, float]]:
    """(key, probability) pairs of one logged score, as ``performance._probability`` reads it."""
    if isinstance(score, dict):
        found = [(str(k), float(v)) for k, v in score.items() if isinstance(v, int | float)]
        return [(k, p) for k, p in found[:_MAX_SCORE_KEYS] if 0.0 <= p <= 1.0]
    if isinstance(score, int | float) and 0.0 <= float(score) <= 1.0:
        return [("", float(score))]
    return []


def classification_sums(pairs: Iterable[tuple[Any, Any, Any]]) -> dict[str, Any]:
    """Sums over (label, prediction, score) triples of a classification model."""
    confusion: dict[str, int] = {}
    scores: dict[str, dict[str, dict[str, Any]]] = {}
    n = 0
    for label, prediction, score in pairs:
        n += 1
        truth = str(label)
        key = f"{truth}{SEPARATOR}{prediction}"
        confusion[key] = confusion.get(key, 0) + 1
        for name, p in _probabilities(score):
            entry = scores.setdefault(truth, {}).setdefault(
                name, {"hist": {}, "log_p": 0.0, "log_q": 0.0, "n": 0}
            )
            b = str(min(int(p * SCORE_BINS), SCORE_BINS - 1))
            entry["hist"][b] = entry["hist"].get(b, 0) + 1
            entry["log_p"] += math.log(min(max(p, _EPS), 1 - _EPS))
            entry["log_q"] += math.log(min(max(1.0 - p, _EPS), 1 - _EPS))
            entry["n"] += 1
    return {"task": "classification", "n": n, "confusion": confusion, "scores": scores}


def regression_sums(pairs: Iterable[tuple[Any, Any, Any]]) -> dict[str, Any]:
    """Error sums over (label, prediction, score) triples of a regression model."""
    n = ape_n = 0
    total_abs = total_sq = ape = 0.0
    for label, prediction, _ in pairs:
        y, error = float(label), float(prediction) - float(label)
        n += 1
        total_abs += abs(error)
        total_sq += error * error
        if y != 0:
            ape += abs(error / y)
            ape_n += 1
    out: dict[str, Any] = {"task": "regression", "n": n, "abs": total_abs, "sq": total_sq}
    out.update(ape=ape, ape_n=ape_n)
    return out


def _add_counts(mine: dict[str, int], other: dict[str, int]) -> dict[str, int]:
    merged = dict(mine)
    for key, n in other.items():
        merged[key] = merged.get(key, 0) + n
    return merged


def merge_performance(mine: dict[str, Any] | None, other: dict[str, Any]) -> dict[str, Any]:
    """The sums of both (a new dictionary; neither argument changes)."""
    if mine is None:
        return other
    if mine["task"] != other["task"]:
        raise ValueError("cannot merge classification and regression sums")
    if mine["task"] == "regression":
        return {k: (v if k == "task" else v + other[k]) for k, v in mine.items()}
    scores: dict[str, dict[str, dict[str, Any]]] = {
        label: dict(keys) for label, keys in mine["scores"].items()
    }
    for label, keys in other["scores"].items():
        for name, entry in keys.items():
            have = scores.setdefault(label, {}).get(name)
            scores[label][name] = (
                entry
                if have is None
                else {
                    "hist": _add_counts(have["hist"], entry["hist"]),
                    "log_p": have["log_p"] + entry["log_p"],
                    "log_q": have["log_q"] + entry["log_q"],
                    "n": have["n"] + entry["n"],
                }
            )
    return {
        "task": "classification",
        "n": mine["n"] + other["n"],
        "confusion": _add_counts(mine["confusion"], other["confusion"]),
        "scores": scores,
    }
