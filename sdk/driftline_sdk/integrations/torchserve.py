"""TorchServe: a handler mixin that logs each request's input and output in ``postprocess``.

from ts.torch_handler.base_handler import BaseHandler
from driftline_sdk.integrations.torchserve import DriftlineHandlerMixin

class FraudHandler(DriftlineHandlerMixin, BaseHandler):   # the mixin first
    driftline_options = {"transport": "http://driftline:8000"}   # or DRIFTLINE_* variables

The model name and version default to the model archive's (``manifest["model"]``). The
features are each request's JSON body (override :meth:`driftline_features` for other inputs)
and the prediction is each item ``postprocess`` returns (override
:meth:`driftline_prediction`). The event id is TorchServe's request id, also returned in the
``X-Driftline-Event-Id`` response header, so labels can be joined later. Logging never raises
into the handler.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Dict, List, Mapping, Optional

from driftline_sdk._log import logger
from driftline_sdk.client import Client

__all__ = ["EVENT_ID_HEADER", "DriftlineHandlerMixin"]

EVENT_ID_HEADER = "X-Driftline-Event-Id"


class DriftlineHandlerMixin:
    """Put it before ``BaseHandler`` (or your handler) in the bases."""

    driftline_options: ClassVar[Dict[str, Any]] = {}
    driftline_client: Optional[Client] = None
    _driftline_inputs: List[Optional[Mapping[str, Any]]]

    def initialize(self, context: Any) -> None:
        super().initialize(context)  # type: ignore[misc]
        options = dict(self.driftline_options)
        model = (getattr(context, "manifest", None) or {}).get("model", {})
        options.setdefault("model", model.get("modelName") or getattr(context, "model_name", None))
        if model.get("modelVersion"):
            options.setdefault("model_version", str(model["modelVersion"]))
        try:
            self.driftline_client = Client(**options)
        except Exception as exc:  # the model must still serve without monitoring
            logger.warning("driftline: not logging predictions: %r", exc)

    def driftline_features(self, row: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
        """The features of one request of the batch; ``None`` skips it."""
        body = row.get("data", row.get("body")) if isinstance(row, Mapping) else None
        if isinstance(body, (bytes, bytearray)):
            try:
                body = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                return None
        return body if isinstance(body, Mapping) else None

    def driftline_prediction(self, output: Any) -> Any:
        """The prediction within one item that ``postprocess`` returned."""
        if isinstance(output, Mapping) and "prediction" in output:
            return output["prediction"]
        return output

    def preprocess(self, data: List[Any]) -> Any:
        inputs: List[Optional[Mapping[str, Any]]] = []
        for row in data:
            try:
                inputs.append(self.driftline_features(row))
            except Exception:
                inputs.append(None)
        self._driftline_inputs = inputs
        return super().preprocess(data)  # type: ignore[misc]

    def postprocess(self, data: Any) -> Any:
        outputs = super().postprocess(data)  # type: ignore[misc]
        try:
            self._driftline_log(outputs)
        except Exception as exc:
            logger.warning("driftline: could not log predictions: %r", exc)
        return outputs

    def _driftline_log(self, outputs: Any) -> None:
        client = self.driftline_client
        inputs = getattr(self, "_driftline_inputs", [])
        if client is None or not isinstance(outputs, list) or len(outputs) != len(inputs):
            return
        context = getattr(self, "context", None)
        for index, (features, output) in enumerate(zip(inputs, outputs)):
            if features is None:
                continue
            request_id = context.get_request_id(index) if context is not None else None
            event_id = client.log_prediction(
                features, self.driftline_prediction(output), event_id=request_id
            )
            if context is not None and getattr(context, "request_processor", None):
                context.set_response_header(index, EVENT_ID_HEADER, event_id)
