"""Kafka through kafka-python. The producer lives in the worker thread only and is created on
the first send, so a process that never logs never connects.

Several events travel in one message as a contract-v1 envelope ``{"schema_version": 1,
"events": [...]}`` (at most ``MAX_EVENTS_PER_MESSAGE`` events and ``MAX_MESSAGE_BYTES``), which
the collector reads like single events. A failed batch is re-sent whole; the collector stores
each ``event_id`` once, so a partial success does not duplicate rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from driftline_sdk._encode import join_array
from driftline_sdk.transports.base import RetryableError, SendResult

if TYPE_CHECKING:
    from driftline_sdk._options import Options

__all__ = ["MAX_EVENTS_PER_MESSAGE", "MAX_MESSAGE_BYTES", "KafkaTransport", "envelopes"]

MAX_EVENTS_PER_MESSAGE = 100
MAX_MESSAGE_BYTES = 512 * 1024


def envelopes(events: List[Tuple[str, bytes]]) -> List[Tuple[bytes, bytes]]:
    """(key, message) pairs: the events packed into as few messages as the limits allow.

    The key is the first event's id: random, so one model's traffic spreads over partitions.
    """
    messages: List[Tuple[bytes, bytes]] = []
    chunk: List[Tuple[str, bytes]] = []
    size = 0

    def close_chunk() -> None:
        prefix = b'{"schema_version":1,"events":['
        messages.append((chunk[0][0].encode(), join_array(chunk, prefix, b"]}")))

    for event_id, encoded in events:
        if chunk and (
            len(chunk) >= MAX_EVENTS_PER_MESSAGE or size + len(encoded) > MAX_MESSAGE_BYTES
        ):
            close_chunk()
            chunk, size = [], 0
        chunk.append((event_id, encoded))
        size += len(encoded) + 1
    if chunk:
        close_chunk()
    return messages


def _check_codec(name: str) -> None:
    """Fail at start-up, not on every send, when the codec's library is missing."""
    try:
        from kafka import codec
    except ImportError:
        return  # reported on first send with the install hint
    available = getattr(codec, f"has_{name}", lambda: True)()
    if not available:
        package = {"lz4": "lz4", "zstd": "zstandard", "snappy": "python-snappy"}.get(name, name)
        raise ValueError(
            f"kafka_compression={name!r} needs the {package} package: pip install {package}"
        )


class KafkaTransport:
    def __init__(self, url: str, options: Options) -> None:
        self._servers = url[len("kafka://") :].split(",")
        self._topic = options.kafka_topic
        self._timeout = options.request_timeout
        self._config: Dict[str, Any] = {
            "bootstrap_servers": self._servers,
            "acks": "all",
            "linger_ms": 5,
            "max_block_ms": 1000,  # the worker, not the caller, waits; keep it short anyway
            "retries": 2,
            "client_id": "driftline-sdk",
        }
        if options.kafka_compression:
            _check_codec(options.kafka_compression)
            self._config["compression_type"] = options.kafka_compression
        self._config.update(options.kafka_options)  # SASL / TLS settings pass straight through
        self._producer: Optional[Any] = None

    def _connect(self) -> Any:
        if self._producer is None:
            try:
                from kafka import KafkaProducer
            except ImportError:
                raise RuntimeError(
                    "the kafka transport needs kafka-python: pip install 'driftline-sdk[kafka]'"
                ) from None
            try:
                self._producer = KafkaProducer(**self._config)
            except Exception as exc:  # NoBrokersAvailable and friends
                raise RetryableError(f"cannot connect to Kafka {self._servers}: {exc}") from None
        return self._producer

    def send(self, events: List[Tuple[str, bytes]]) -> SendResult:
        producer = self._connect()
        try:
            futures = [
                producer.send(self._topic, value=message, key=key)
                for key, message in envelopes(events)
            ]
            producer.flush(timeout=self._timeout)
            for future in futures:
                future.get(timeout=0)
        except Exception as exc:  # KafkaTimeoutError, KafkaError: the whole batch is retried
            raise RetryableError(f"Kafka send failed: {exc!r}") from None
        return SendResult(len(events), [])

    def close(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            finally:
                self._producer = None
