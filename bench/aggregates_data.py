"""Generated data of the aggregates benchmark: 100 features, 20 of them drifting.

70 numeric features of four shapes (normal, log-normal, small integers, a spike at 0 with an
exponential tail) and 30 categorical ones with eight categories. The first 14 numeric and the
first 6 categorical features drift in the window: shifted, reweighted, or with a new category.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CATEGORICAL",
    "DRIFTED",
    "KINDS",
    "MODEL",
    "NUMERIC",
    "columns",
    "events",
    "reference_frame",
]

NUMERIC = [f"n{i}" for i in range(70)]
CATEGORICAL = [f"c{i}" for i in range(30)]
DRIFTED = set(NUMERIC[:14]) | set(CATEGORICAL[:6])
KINDS = {n: "numeric" for n in NUMERIC} | {c: "categorical" for c in CATEGORICAL}
MODEL: dict[str, Any] = {
    "name": "bench",
    "task": "binary_classification",
    "features": [{"name": n, "type": k} for n, k in KINDS.items()],
}
LETTERS = np.array(list("abcdefgh"))
WEIGHTS = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.05, 0.02])


def _numeric(rng: np.random.Generator, index: int, n: int, drift: bool) -> np.ndarray:
    shape = index % 4
    if shape == 0:
        return rng.normal(0.5 if drift else 0.0, 1.0, n)
    if shape == 1:
        return rng.lognormal(0.3 if drift else 0.0, 1.0, n)
    if shape == 2:
        values = rng.integers(0, 10, n).astype(np.float64)
        return values + (rng.random(n) < 0.5) if drift else values
    zeros = rng.random(n) < (0.5 if drift else 0.3)
    return np.where(zeros, 0.0, rng.exponential(50.0, n))


def _categorical(rng: np.random.Generator, n: int, drift: bool) -> np.ndarray:
    values = rng.choice(LETTERS, n, p=WEIGHTS)
    if drift:
        values = np.where(rng.random(n) < 0.15, "z", values)  # a category the reference lacks
    return values


def columns(rng: np.random.Generator, n: int, drifting: bool = True) -> dict[str, np.ndarray]:
    """Every feature's values for n events; with ``drifting``, the drifted features drift."""
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(NUMERIC):
        out[name] = _numeric(rng, i, n, drifting and name in DRIFTED)
    for name in CATEGORICAL:
        out[name] = _categorical(rng, n, drifting and name in DRIFTED)
    out["prediction"] = rng.choice(np.array(["0", "1"]), n)
    return out


def reference_frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    data = columns(rng, n, drifting=False)
    frame = pd.DataFrame({name: data[name] for name in NUMERIC})
    for name in [*CATEGORICAL, "prediction"]:
        frame[name] = pd.array(data[name], dtype="string")
    return frame


def events(
    rng: np.random.Generator, model: str, size: int, end: datetime, start: int, total: int
) -> list[dict[str, Any]]:
    """Events ``start .. start + size`` of ``total`` spread evenly over the hour before end."""
    data = columns(rng, size)
    numeric = np.column_stack([data[n] for n in NUMERIC]).tolist()
    categorical = np.column_stack([data[c] for c in CATEGORICAL]).tolist()
    step = 3600.0 / max(total, 1)
    first = end - timedelta(hours=1)
    return [
        {
            "event_id": str(uuid.uuid4()),
            "model": model,
            "model_version": "1",
            "event_time": (first + timedelta(seconds=(start + i) * step)).isoformat(),
            "features": dict(zip(NUMERIC, numeric[i], strict=True))
            | dict(zip(CATEGORICAL, categorical[i], strict=True)),
            "prediction": data["prediction"][i],
            "score": float(rng.random()),
        }
        for i in range(size)
    ]
