"""The example model server: trains a credit-scoring model at start, serves it with FastAPI and
logs every prediction with the Driftline SDK, exactly as ``sdk/README.md`` shows.

Run it: ``python -m examples.model_server --port 8001`` with ``DRIFTLINE_TRANSPORT``
(``http://localhost:8000`` or ``kafka://localhost:9092``) and ``DRIFTLINE_API_KEY`` (an ``ingest``
key) in the environment.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import driftline_sdk
from driftline_sdk.integrations.fastapi import Driftline
from examples.model_server.data import FEATURES, applicants, default_label

__all__ = ["TRAINING_ROWS", "TRAINING_SEED", "create_app", "train"]

TRAINING_ROWS = 5000
TRAINING_SEED = 7


class Applicants(BaseModel):
    applicants: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


def train() -> Pipeline:
    """The model, trained on the same seeded rows the demo uploads as reference."""
    frame = applicants(TRAINING_ROWS, seed=TRAINING_SEED)
    numeric = [f for f, kind in FEATURES.items() if kind == "numeric"]
    categorical = [f for f, kind in FEATURES.items() if kind == "categorical"]
    model = Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        ("numeric", StandardScaler(), numeric),
                        ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
                    ]
                ),
            ),
            ("classifier", LogisticRegression(max_iter=500)),
        ]
    )
    model.fit(frame, default_label(frame, seed=TRAINING_SEED + 1))
    return model


def create_app(model_name: str, transport: str, api_key: str | None) -> FastAPI:
    model = train()
    driftline_sdk.init(model=model_name, model_version="1", transport=transport, api_key=api_key)
    app = FastAPI(title="Example credit-scoring model")

    @app.post("/predict")
    def predict(body: Applicants, driftline: Driftline) -> dict[str, Any]:
        frame = pd.DataFrame(body.applicants, columns=list(FEATURES))
        scores = model.predict_proba(frame)[:, 1]
        labels = [str(int(s >= 0.5)) for s in scores]
        event_ids = [
            driftline.log_prediction(row, label, score=float(score))
            for row, label, score in zip(body.applicants, labels, scores, strict=True)
        ]
        return {"predictions": labels, "scores": scores.tolist(), "event_ids": event_ids}

    @app.get("/training-data.csv", response_class=PlainTextResponse)
    def training_data() -> str:
        """What the model was trained on, with its predictions: upload it as the reference."""
        frame = applicants(TRAINING_ROWS, seed=TRAINING_SEED)
        frame["prediction"] = [str(int(s >= 0.5)) for s in model.predict_proba(frame)[:, 1]]
        return frame.to_csv(index=False)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "driftline": driftline_sdk.get_client().stats()}

    @app.post("/flush")
    def flush() -> dict[str, int]:
        """Deliver what the SDK has queued (the demo calls it between phases)."""
        return {"pending": driftline_sdk.get_client().flush(timeout=10.0)}

    return app
