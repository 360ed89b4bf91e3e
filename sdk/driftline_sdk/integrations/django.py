"""Django: a middleware that logs your prediction views, and helpers for doing it by hand.

# settings.py
MIDDLEWARE = [..., "driftline_sdk.integrations.django.DriftlineMiddleware"]
DRIFTLINE = {
    "model": "fraud", "model_version": "3", "transport": "http://driftline:8000",
    "paths": ["/predict"],          # log these views' JSON request and response
    "prediction_key": "label",      # where the response JSON holds the prediction
}

A POST to a listed path with a JSON object body, answered 200 with a JSON object holding
``prediction_key``, is logged with the request body as the features; the event id is returned
in the ``X-Driftline-Event-Id`` header so the label can be logged later. Other views can call
:func:`log_prediction` themselves. Nothing here ever raises into a request.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Callable, Dict, Optional

from driftline_sdk._log import logger
from driftline_sdk.client import Client

__all__ = ["EVENT_ID_HEADER", "DriftlineMiddleware", "client", "log_label", "log_prediction"]

EVENT_ID_HEADER = "X-Driftline-Event-Id"
_AUTO_KEYS = ("paths", "prediction_key", "features_key")
_lock = threading.Lock()
_client: Optional[Client] = None


def client() -> Client:
    """The process's client, made from ``settings.DRIFTLINE`` on first use."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                from django.conf import settings

                options = dict(getattr(settings, "DRIFTLINE", {}))
                _client = Client(**{k: v for k, v in options.items() if k not in _AUTO_KEYS})
    return _client


def log_prediction(features: Any, prediction: Any, **kwargs: Any) -> str:
    return client().log_prediction(features, prediction, **kwargs)


def log_label(event_id: str, label: Any, **kwargs: Any) -> None:
    client().log_label(event_id, label, **kwargs)


class DriftlineMiddleware:
    """Logs the JSON of the views under ``DRIFTLINE["paths"]``."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        from django.conf import settings

        self.get_response = get_response
        options: Dict[str, Any] = dict(getattr(settings, "DRIFTLINE", {}))
        self.paths = tuple(options.get("paths", ()))
        self.prediction_key = options.get("prediction_key", "prediction")
        self.features_key = options.get("features_key")  # None: the whole body
        client()  # fail at start-up on a bad configuration, not on the first request

    def __call__(self, request: Any) -> Any:
        features = self._features(request)
        response = self.get_response(request)
        if features is not None:
            try:
                self._log(features, response)
            except Exception as exc:  # never break the response over monitoring
                logger.warning("driftline: could not log the prediction: %r", exc)
        return response

    def _features(self, request: Any) -> Optional[Dict[str, Any]]:
        if request.method != "POST" or not request.path.startswith(self.paths or ("\0",)):
            return None
        try:
            # Read before the view: Django caches request.body, so the view can read it too.
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return None
        if self.features_key is not None and isinstance(body, dict):
            body = body.get(self.features_key)
        return body if isinstance(body, dict) else None

    def _log(self, features: Dict[str, Any], response: Any) -> None:
        if response.status_code != 200 or "json" not in response.get("Content-Type", ""):
            return
        answer = json.loads(response.content)
        if not isinstance(answer, dict) or self.prediction_key not in answer:
            return
        event_id = log_prediction(features, answer[self.prediction_key])
        response[EVENT_ID_HEADER] = event_id
