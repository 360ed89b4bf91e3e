"""A seeded synthetic credit-scoring data set, and the shifted traffic the demo sends.

>>> frame = applicants(1000, seed=1)
>>> sorted(frame.columns) == sorted(FEATURES)
True
>>> bool(applicants(1000, seed=1).equals(frame))  # seeded: the same rows every time
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FEATURES", "SHIFTED_FEATURES", "applicants", "default_label", "model_schema"]

# name -> Driftline feature type
FEATURES: dict[str, str] = {
    "income": "numeric",
    "age": "numeric",
    "debt_ratio": "numeric",
    "credit_lines": "numeric",
    "employment": "categorical",
    "home": "categorical",
    "purpose": "categorical",
}
# What `shift=True` changes: covariate shift in two numeric features and another employment mix.
SHIFTED_FEATURES = ("income", "debt_ratio", "employment")

EMPLOYMENT = ["employed", "self_employed", "unemployed", "student"]
HOME = ["rent", "own", "mortgage"]
PURPOSE = ["car", "home_improvement", "education", "debt_consolidation", "other"]


def applicants(n: int, *, seed: int, shift: bool = False) -> pd.DataFrame:
    """``n`` loan applicants; ``shift=True`` is the population after an economic downturn."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(mean=10.8 - (0.35 if shift else 0.0), sigma=0.45, size=n)
    debt_ratio = rng.beta(2.0 + (2.5 if shift else 0.0), 5.0, size=n)
    employment_mix = [0.45, 0.2, 0.3, 0.05] if shift else [0.7, 0.15, 0.1, 0.05]
    return pd.DataFrame(
        {
            "income": income.round(2),
            "age": rng.integers(21, 75, size=n).astype(float),
            "debt_ratio": debt_ratio.round(4),
            "credit_lines": rng.poisson(4, size=n).astype(float),
            "employment": rng.choice(EMPLOYMENT, size=n, p=employment_mix),
            "home": rng.choice(HOME, size=n, p=[0.4, 0.25, 0.35]),
            "purpose": rng.choice(PURPOSE, size=n),
        }
    )


def default_label(frame: pd.DataFrame, *, seed: int) -> np.ndarray:
    """Whether each applicant defaulted: riskier with debt, lower income and no job."""
    rng = np.random.default_rng(seed)
    risk = (
        3.0 * frame["debt_ratio"].to_numpy()
        - 0.00002 * frame["income"].to_numpy()
        + (frame["employment"] == "unemployed").to_numpy() * 1.2
        - 0.01 * (frame["age"].to_numpy() - 40)
    )
    probability = 1 / (1 + np.exp(-(risk - 0.2)))
    return (rng.random(len(frame)) < probability).astype(int)


def model_schema(name: str = "credit-scoring") -> dict[str, object]:
    """The body of ``POST /v1/models`` for this model."""
    return {
        "name": name,
        "task": "binary_classification",
        "description": "Example credit-scoring model (examples/model_server).",
        "features": [
            {"name": feature, "type": kind, "key": feature == "income"}
            for feature, kind in FEATURES.items()
        ],
    }
