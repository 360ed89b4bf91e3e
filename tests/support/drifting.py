"""A model with drifting traffic, through the public API: what the metrics tests look at.

``credit`` has a numeric key feature (``income``) whose traffic is shifted far from the
reference, so the run calls drift, and ``age`` shifts too (drift share 0.5). ``age`` is checked
with a distance (Wasserstein), the others with p-value tests, so both kinds of statistic are
exported; half of the events get labels (performance, label coverage) and a ``channel`` tag
(segments).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

__all__ = ["FEATURES", "MODEL", "Api", "events", "register", "send_labels"]

MODEL = "credit"
FEATURES = ["income", "age", "region", "has_card"]
REGIONS = ["north", "south", "east", "west"]


# TestClient is an httpx.Client: the same helpers drive the in-process API and a live one.
Api = httpx.Client


def _ok(response: Any) -> Any:
    assert response.status_code < 300, f"{response.status_code}: {response.text[:500]}"
    return response.json()


def register(api: Api, model: str = MODEL, rows: int = 800, seed: int = 1) -> None:
    """The model, its reference (<= 1000 rows: p-value tests) and its monitor."""
    _ok(
        api.post(
            "/v1/models",
            json={
                "name": model,
                "task": "binary_classification",
                "features": [
                    {"name": "income", "type": "numeric", "key": True},
                    {"name": "age", "type": "numeric"},
                    {"name": "region", "type": "categorical"},
                    {"name": "has_card", "type": "boolean"},
                ],
            },
        )
    )
    rng = random.Random(seed)
    lines = ["income,age,region,has_card,prediction"]
    for _ in range(rows):
        income = rng.gauss(50_000, 10_000)
        lines.append(
            f"{income:.0f},{rng.randint(18, 80)},{rng.choice(REGIONS)},"
            f"{rng.random() < 0.4},{int(income > 55_000)}"
        )
    csv = "\n".join(lines).encode()
    _ok(api.post(f"/v1/models/{model}/versions/1/reference", files={"file": ("r.csv", csv)}))
    _ok(
        api.put(
            f"/v1/models/{model}/versions/1/monitor",
            json={
                "segment_tags": ["channel"],
                "max_segment_values": 2,
                "min_events": 50,
                "features": {"age": {"method": "wasserstein"}},
            },
        )
    )


def events(
    n: int, model: str = MODEL, seed: int = 2, extra: bool = False, minutes_ago: int = 10
) -> list[dict[str, Any]]:
    """``n`` drifting events with random ids, ``minutes_ago`` (inside the scheduler's next
    window); with ``extra``, each also carries a feature name never seen before."""
    rng = random.Random(seed)
    when = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    out = []
    for i in range(n):
        income = rng.gauss(80_000, 10_000)  # three reference standard deviations higher
        features: dict[str, Any] = {
            "income": round(income),
            "age": rng.randint(45, 95),  # older customers: drifts too (half the features)
            "region": rng.choice(REGIONS),
            "has_card": rng.random() < 0.4,
        }
        if extra:
            features[f"x_{uuid.uuid4().hex[:10]}"] = rng.random()
        out.append(
            {
                "event_id": str(uuid.uuid4()),
                "model": model,
                "model_version": "1",
                "event_time": (when + timedelta(milliseconds=i)).isoformat(),
                "features": features,
                "prediction": str(int(income > 55_000)),
                "score": min(1.0, income / 100_000),
                # Random tag values too: segments are capped by max_segment_values.
                "tags": {"channel": rng.choice(["web", "app"]) if i % 10 else uuid.uuid4().hex},
            }
        )
    return out


def send_labels(api: Api, batch: list[dict[str, Any]], share: float = 0.5) -> None:
    rng = random.Random(3)
    labels = [
        {"event_id": e["event_id"], "model": e["model"], "label": str(rng.randint(0, 1))}
        for e in batch[: int(len(batch) * share)]
    ]
    _ok(api.post("/v1/labels", json={"labels": labels}))
