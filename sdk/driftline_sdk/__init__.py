"""Driftline SDK: log predictions and labels from model servers without slowing them down.

>>> import driftline_sdk
>>> driftline_sdk.log_prediction({"amount": 3.0}, "0")  # doctest: +ELLIPSIS
'...'

Before :func:`init`, calls go to a client that does nothing.
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import Any, Dict, Optional

from driftline_sdk._ids import uuid7
from driftline_sdk.client import Client

__all__ = [
    "Client",
    "close",
    "flush",
    "get_client",
    "init",
    "log_label",
    "log_prediction",
    "log_predictions",
    "stats",
    "uuid7",
]


class _NoopClient:
    """Stands in until :func:`init`: calls cost nothing and send nothing."""

    def log_prediction(
        self, features: Any, prediction: Any, *, event_id: Optional[str] = None, **_: Any
    ) -> str:
        return event_id or uuid7()

    def log_predictions(self, features: Any, predictions: Any, **_: Any) -> list:  # type: ignore[type-arg]
        return [uuid7() for _ in predictions]

    def log_label(self, event_id: str, label: Any, **_: Any) -> None:
        return None

    def flush(self, timeout: float = 2.0) -> int:
        return 0

    def close(self, timeout: Optional[float] = None) -> None:
        return None

    def stats(self) -> Dict[str, Any]:
        return {
            "logged": 0,
            "sent": 0,
            "queued": 0,
            "dropped": {},
            "retries": 0,
            "last_error": None,
        }


_client: Any = _NoopClient()


def init(**options: Any) -> Client:
    """Create the process-wide client (arguments as for :class:`Client`) and return it."""
    global _client
    if isinstance(_client, Client):
        _client.close()
    client = Client(**options)
    _client = client
    return client


def get_client() -> Any:
    return _client


def log_prediction(features: Any, prediction: Any, **kwargs: Any) -> str:
    return str(_client.log_prediction(features, prediction, **kwargs))


def log_predictions(features: Any, predictions: Any, **kwargs: Any) -> Any:
    return _client.log_predictions(features, predictions, **kwargs)


def log_label(event_id: str, label: Any, **kwargs: Any) -> None:
    _client.log_label(event_id, label, **kwargs)


def flush(timeout: float = 2.0) -> int:
    return int(_client.flush(timeout))


def close(timeout: Optional[float] = None) -> None:
    _client.close(timeout)


def stats() -> Dict[str, Any]:
    return dict(_client.stats())
