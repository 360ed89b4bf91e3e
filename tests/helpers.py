"""Small builders shared by the tests."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pandas as pd

FRAUD_MODEL: dict[str, Any] = {
    "name": "fraud",
    "task": "binary_classification",
    "features": [
        {"name": "amount", "type": "numeric", "key": True},
        {"name": "country", "type": "categorical"},
        {"name": "is_new", "type": "boolean"},
    ],
}


def prediction(i: int = 0, **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "model": "fraud",
        "features": {
            "amount": 10.0 + i,
            "country": ["DE", "FR", "US"][i % 3],
            "is_new": i % 2 == 0,
        },
        "prediction": str(i % 2),
    }
    event.update(overrides)
    return event


def fraud_reference_csv(n: int = 2000) -> str:
    """A seeded reference for FRAUD_MODEL as CSV: amount ~ N(100, 20), three countries."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "amount": rng.normal(100, 20, n),
            "country": rng.choice(["DE", "FR", "US"], n),
            "is_new": rng.random(n) < 0.3,
            "prediction": rng.choice(["0", "1"], n),
        }
    ).to_csv(index=False)


def setting_exists(variable: str) -> bool:
    """Whether ``DRIFTLINE_A__B`` names a field of the settings model (nested by ``__``)."""
    from driftline.core.settings import Settings

    node: Any = Settings
    for part in variable.removeprefix("DRIFTLINE_").lower().split("__"):
        fields = getattr(node, "model_fields", {})
        if part not in fields:
            return False
        node = fields[part].annotation
    return True
