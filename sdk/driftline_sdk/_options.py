"""Client options: keyword arguments first, then ``DRIFTLINE_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any, Dict, Optional

__all__ = ["ENV", "Options", "resolve_options"]

# option -> (environment variable, parser)
ENV = {
    "model": ("DRIFTLINE_MODEL", str),
    "model_version": ("DRIFTLINE_MODEL_VERSION", str),
    "transport": ("DRIFTLINE_TRANSPORT", str),
    "api_key": ("DRIFTLINE_API_KEY", str),
    "sample_rate": ("DRIFTLINE_SAMPLE_RATE", float),
    "queue_size": ("DRIFTLINE_QUEUE_SIZE", int),
    "batch_size": ("DRIFTLINE_BATCH_SIZE", int),
    "flush_interval": ("DRIFTLINE_FLUSH_INTERVAL", float),
    "shutdown_timeout": ("DRIFTLINE_SHUTDOWN_TIMEOUT", float),
    "request_timeout": ("DRIFTLINE_REQUEST_TIMEOUT", float),
    "kafka_topic": ("DRIFTLINE_KAFKA_TOPIC", str),
    "kafka_compression": ("DRIFTLINE_KAFKA_COMPRESSION", str),
}


@dataclass
class Options:
    model: str
    transport: str
    model_version: Optional[str] = None
    api_key: Optional[str] = None
    sample_rate: float = 1.0
    queue_size: int = 10_000
    batch_size: int = 500
    flush_interval: float = 1.0
    shutdown_timeout: float = 2.0
    request_timeout: float = 5.0
    max_backoff: float = 30.0
    kafka_topic: str = "driftline.events"
    kafka_compression: Optional[str] = None
    kafka_options: Dict[str, Any] = field(default_factory=dict)


def resolve_options(**given: Any) -> Options:
    """Options from ``given`` (``None`` means unset) and the environment; checked here so a
    misconfiguration fails at start-up, not on the first event."""
    values: Dict[str, Any] = {}
    for spec in fields(Options):
        value = given.pop(spec.name, None)
        if value is None and spec.name in ENV:
            variable, parse = ENV[spec.name]
            raw = os.environ.get(variable)
            if raw not in (None, ""):
                try:
                    value = parse(raw)
                except ValueError:
                    raise ValueError(
                        f"{variable}={raw!r} is not a valid {parse.__name__}"
                    ) from None
        if value is not None:
            values[spec.name] = value
    if given:
        raise TypeError(f"unknown option(s): {', '.join(sorted(given))}")
    for required in ("model", "transport"):
        if not values.get(required):
            variable = ENV[required][0]
            raise ValueError(f"{required} is required (argument or {variable})")
    options = Options(**values)
    if not 0.0 <= options.sample_rate <= 1.0:
        raise ValueError("sample_rate must be between 0 and 1")
    for name in ("queue_size", "batch_size"):
        if getattr(options, name) < 1:
            raise ValueError(f"{name} must be at least 1")
    for name in ("flush_interval", "shutdown_timeout", "request_timeout"):
        if getattr(options, name) <= 0:
            raise ValueError(f"{name} must be positive")
    if options.kafka_compression not in (None, "gzip", "snappy", "lz4", "zstd"):
        raise ValueError("kafka_compression must be gzip, snappy, lz4 or zstd")
    return options
