"""FastAPI / Starlette: the process-wide client as a dependency.

from fastapi import FastAPI
import driftline_sdk
from driftline_sdk.integrations.fastapi import Driftline

driftline_sdk.init(model="fraud", model_version="3", transport="http://driftline:8000")
app = FastAPI()

@app.post("/predict")
def predict(features: dict, driftline: Driftline) -> dict:
    label = model.predict(features)
    event_id = driftline.log_prediction(features, label)
    return {"label": label, "event_id": event_id}
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

import driftline_sdk

__all__ = ["Driftline", "current_client"]


def current_client() -> Any:
    """The client made by :func:`driftline_sdk.init` (a do-nothing one before that)."""
    return driftline_sdk.get_client()


Driftline = Annotated[Any, Depends(current_client)]
