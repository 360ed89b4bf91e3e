"""CloudEvents 1.0 over HTTP, as KServe's and Seldon's payload loggers send them.

Binary mode (what both loggers use): the attributes are ``ce-*`` headers and the body is the
logged payload. Structured mode: the whole event is a JSON object
(``application/cloudevents+json``); batched mode is a JSON array of those
(``application/cloudevents-batch+json``). Extension attributes (``inferenceservicename``,
``namespace``, ``component``, ``endpoint``; Seldon's ``requestid``, ``modelid``) are kept as
strings under their lower-case names.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import unquote

from driftline.core.errors import FieldProblem, InvalidInputError

__all__ = [
    "KSERVE_REQUEST",
    "KSERVE_RESPONSE",
    "SELDON_REQUEST",
    "SELDON_RESPONSE",
    "CloudEvent",
    "parse_http",
]

KSERVE_REQUEST = "org.kubeflow.serving.inference.request"
KSERVE_RESPONSE = "org.kubeflow.serving.inference.response"
SELDON_REQUEST = "io.seldon.serving.inference.request"
SELDON_RESPONSE = "io.seldon.serving.inference.response"
_HALVES: dict[str, Literal["request", "response"]] = {
    KSERVE_REQUEST: "request",
    KSERVE_RESPONSE: "response",
    SELDON_REQUEST: "request",
    SELDON_RESPONSE: "response",
}
_REQUIRED = ("specversion", "id", "source", "type")
_CONTEXT = {*_REQUIRED, "time", "datacontenttype", "dataschema", "subject"}
MAX_PAIR_KEY = 300


def _bad(field: str, reason: str) -> InvalidInputError:
    return InvalidInputError(
        "not a KServe or Seldon payload-log CloudEvent", [FieldProblem(field, reason)]
    )


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad("time", f"is not an RFC 3339 timestamp: {value[:64]!r}") from None
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:
        raise _bad("time", f"is out of range once converted to UTC: {value[:64]!r}") from None


@dataclass(frozen=True, slots=True)
class CloudEvent:
    id: str
    type: str
    source: str
    time: datetime | None
    extensions: dict[str, str]
    data: bytes

    @property
    def half(self) -> Literal["request", "response"]:
        return _HALVES[self.type]

    @property
    def seldon(self) -> bool:
        return self.type.startswith("io.seldon.")

    @property
    def service(self) -> str:
        return self.extensions.get("inferenceservicename", "")

    @property
    def namespace(self) -> str:
        return self.extensions.get("namespace", "")

    @property
    def request_id(self) -> str:
        """What both halves share: KServe gives them the same ``id`` (the request's
        ``Ce-Id`` header or a new UUID); Seldon gives each half its own ``id`` and the
        shared prediction id in ``requestid``."""
        if self.seldon and self.extensions.get("requestid"):
            return self.extensions["requestid"]
        return self.id

    @property
    def pair_key(self) -> str:
        # Scoped to the server (and Seldon's graph node) so equal ids from two servers,
        # e.g. a client reusing its own Ce-Id, never pair with each other.
        parts = [self.namespace, self.service, self.extensions.get("modelid", ""), self.request_id]
        key = "/".join(parts)
        if len(key) > MAX_PAIR_KEY:
            key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
        return key


def _checked(attributes: Mapping[str, Any], data: bytes) -> CloudEvent:
    for name in _REQUIRED:
        value = attributes.get(name)
        if not isinstance(value, str) or not value:
            raise _bad(name, "the required CloudEvents attribute is missing")
    if attributes["specversion"] != "1.0":
        raise _bad("specversion", f"must be 1.0, got {str(attributes['specversion'])[:16]!r}")
    if attributes["type"] not in _HALVES:
        raise _bad("type", f"must be one of {sorted(_HALVES)}, got {attributes['type'][:128]!r}")
    time_value = attributes.get("time")
    extensions = {
        name: str(value)
        for name, value in attributes.items()
        if name not in _CONTEXT and name not in ("data", "data_base64") and value is not None
    }
    return CloudEvent(
        id=attributes["id"],
        type=attributes["type"],
        source=attributes["source"],
        time=_time(time_value if isinstance(time_value, str) else None),
        extensions=extensions,
        data=data,
    )


def _structured(item: object) -> CloudEvent:
    if not isinstance(item, dict):
        raise _bad("$", "a structured CloudEvent must be a JSON object")
    if "data_base64" in item:
        try:
            data = base64.b64decode(str(item["data_base64"]), validate=True)
        except binascii.Error:
            raise _bad("data_base64", "is not valid base64") from None
    elif "data" in item:
        value = item["data"]
        data = value.encode() if isinstance(value, str) else json.dumps(value).encode()
    else:
        data = b""
    return _checked(item, data)


def parse_http(headers: Mapping[str, str], body: bytes) -> list[CloudEvent]:
    """The CloudEvents of one HTTP request, in any of the three modes."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/cloudevents+json", "application/cloudevents-batch+json"):
        try:
            decoded = json.loads(body)
        except (ValueError, RecursionError):
            raise _bad("$", "the body is not valid JSON") from None
        if content_type.endswith("batch+json"):
            if not isinstance(decoded, list):
                raise _bad("$", "a CloudEvents batch must be a JSON array")
            return [_structured(item) for item in decoded]
        return [_structured(decoded)]
    attributes: dict[str, Any] = {
        name.lower()[3:]: unquote(value)  # the HTTP binding percent-encodes header values
        for name, value in headers.items()
        if name.lower().startswith("ce-")
    }
    if not attributes:
        raise _bad("ce-specversion", "no ce-* headers (binary mode) and not a structured event")
    return [_checked(attributes, body)]
