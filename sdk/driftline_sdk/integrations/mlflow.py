"""MLflow: wrap a pyfunc model so every ``predict`` logs its inputs and what it returned.

import mlflow
from driftline_sdk.integrations import mlflow as driftline_mlflow

model = driftline_mlflow.wrap(
    mlflow.pyfunc.load_model("models:/fraud/3"),
    model="fraud", model_version="3", transport="http://driftline:8000",
)
labels = model.predict(frame)          # as before; each row is logged with its prediction
model.last_event_ids                   # the rows' event ids, to log labels later

``model`` and ``model_version`` default to the registered model's name and version when the
model was loaded from a ``models:/NAME/VERSION`` URI you pass as ``model_uri``. Column names
come from the input (a DataFrame or records) or, for arrays, from the model's input schema.
Logging never raises into ``predict``; the wrapper forwards every other attribute.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from driftline_sdk._log import logger
from driftline_sdk.client import Client

__all__ = ["DriftlineModel", "wrap"]


def _from_uri(model_uri: Optional[str]) -> Dict[str, str]:
    if model_uri and model_uri.startswith("models:/"):
        parts = model_uri[len("models:/") :].split("/")
        if len(parts) == 2 and parts[1].isdigit():
            return {"model": parts[0], "model_version": parts[1]}
    return {}


def _names(model: Any, width: int) -> List[str]:
    try:
        names = model.metadata.get_input_schema().input_names()
        if len(names) == width:
            return [str(n) for n in names]
    except Exception:
        pass
    return [f"f{i}" for i in range(width)]


def _rows(model: Any, data: Any) -> List[Dict[str, Any]]:
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a DataFrame
        return [dict(r) for r in data.to_dict(orient="records")]
    if isinstance(data, dict):  # columns
        return [dict(zip(data, values)) for values in zip(*data.values())]
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return [dict(r) for r in data]
    rows = data.tolist() if hasattr(data, "tolist") else list(data)
    rows = [r if isinstance(r, list) else [r] for r in rows]
    names = _names(model, len(rows[0]) if rows else 0)
    return [dict(zip(names, r)) for r in rows]


def _outputs(predictions: Any) -> List[Any]:
    if hasattr(predictions, "columns"):  # a DataFrame: the "prediction" column, else the first
        column = "prediction" if "prediction" in predictions.columns else predictions.columns[0]
        predictions = predictions[column]
    values = predictions.tolist() if hasattr(predictions, "tolist") else list(predictions)
    return [v[0] if isinstance(v, list) and len(v) == 1 else v for v in values]


class DriftlineModel:
    """A pyfunc model whose ``predict`` also logs to Driftline."""

    def __init__(self, model: Any, client: Client) -> None:
        self.model = model
        self.driftline_client = client
        self.last_event_ids: List[str] = []

    def predict(self, data: Any, *args: Any, **kwargs: Any) -> Any:
        predictions = self.model.predict(data, *args, **kwargs)
        try:
            rows, outputs = _rows(self.model, data), _outputs(predictions)
            if len(rows) == len(outputs):
                self.last_event_ids = self.driftline_client.log_predictions(rows, outputs)
            else:
                logger.warning("driftline: %d inputs but %d outputs", len(rows), len(outputs))
        except Exception as exc:  # never fail a prediction over monitoring
            logger.warning("driftline: could not log predictions: %r", exc)
        return predictions

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


def wrap(
    model: Any, *, model_uri: Optional[str] = None, client: Optional[Client] = None, **options: Any
) -> DriftlineModel:
    """``model`` (anything with ``predict``, usually ``mlflow.pyfunc.load_model(...)``) with
    logging; pass a :class:`Client` or the options to make one."""
    if client is None:
        client = Client(**{**_from_uri(model_uri), **options})
    return DriftlineModel(model, client)
