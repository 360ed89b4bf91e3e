"""The transport interface and the choice of transport from its URL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, NamedTuple, Optional, Tuple

if TYPE_CHECKING:
    from typing import Protocol

    from driftline_sdk._options import Options

    class Transport(Protocol):
        def send(self, events: List[Tuple[str, bytes]]) -> SendResult:
            """Deliver (event_id, contract-v1 JSON) pairs or raise :class:`RetryableError`."""

        def close(self) -> None: ...

else:
    Transport = Any

__all__ = ["RetryableError", "SendResult", "Transport", "make_transport"]


class SendResult(NamedTuple):
    delivered: int
    rejected: List[str]  # one reason per event the receiver refused for good


class RetryableError(ConnectionError):
    """The batch was not delivered but may be on a later attempt."""

    def __init__(self, message: str, retry_after: Optional[float] = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def make_transport(options: Options) -> Transport:
    url = options.transport
    if url.startswith(("http://", "https://")):
        from driftline_sdk.transports.http import HttpTransport

        return HttpTransport(url, options)
    if url.startswith("kafka://"):
        from driftline_sdk.transports.kafka import KafkaTransport

        return KafkaTransport(url, options)
    raise ValueError(f"transport {url!r}: use http://host:port or kafka://broker:9092[,broker2]")
