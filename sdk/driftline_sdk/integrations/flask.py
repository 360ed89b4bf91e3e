"""Flask: one client per app, reachable from any view.

from flask import Flask, request
from driftline_sdk.integrations.flask import init_app, log_prediction

app = Flask(__name__)
init_app(app, model="fraud", model_version="3", transport="http://driftline:8000")

@app.post("/predict")
def predict():
    features = request.get_json()
    label = model.predict(features)
    return {"label": label, "event_id": log_prediction(features, label)}
"""

from __future__ import annotations

from typing import Any

from driftline_sdk.client import Client

__all__ = ["client", "init_app", "log_label", "log_prediction"]

_KEY = "driftline"


def init_app(app: Any, **options: Any) -> Client:
    """Create the app's client (options as for :class:`Client`; ``DRIFTLINE_*`` env too)."""
    created = Client(**options)
    app.extensions[_KEY] = created
    return created


def client() -> Client:
    from flask import current_app

    found: Client = current_app.extensions[_KEY]
    return found


def log_prediction(features: Any, prediction: Any, **kwargs: Any) -> str:
    return client().log_prediction(features, prediction, **kwargs)


def log_label(event_id: str, label: Any, **kwargs: Any) -> None:
    client().log_label(event_id, label, **kwargs)
