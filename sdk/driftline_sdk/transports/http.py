"""Batched ``POST /v1/events`` over one keep-alive connection (standard library only)."""

from __future__ import annotations

import http.client
import json
from typing import TYPE_CHECKING, List, Optional, Tuple
from urllib.parse import urlsplit

from driftline_sdk import __version__
from driftline_sdk._encode import join_array
from driftline_sdk.transports.base import RetryableError, SendResult

if TYPE_CHECKING:
    from driftline_sdk._options import Options

__all__ = ["HttpTransport"]


def _retry_after(value: Optional[str]) -> Optional[float]:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


class HttpTransport:
    def __init__(self, url: str, options: Options) -> None:
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port
        self._path = parts.path.rstrip("/") + "/v1/events"
        self._timeout = options.request_timeout
        self._headers = {
            "Content-Type": "application/json",
            "User-Agent": f"driftline-sdk/{__version__}",
        }
        if options.api_key:
            self._headers["Authorization"] = f"Bearer {options.api_key}"
        self._connection: Optional[http.client.HTTPConnection] = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = kind(self._host, self._port, timeout=self._timeout)
        return self._connection

    def send(self, events: List[Tuple[str, bytes]]) -> SendResult:
        body = join_array(events, b'{"events":[', b"]}")
        try:
            connection = self._connect()
            connection.request("POST", self._path, body=body, headers=self._headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()  # a broken keep-alive connection is not reused
            raise RetryableError(f"cannot reach {self._host}: {exc}") from None
        status = response.status
        if status == 429 or status >= 500:
            raise RetryableError(
                f"HTTP {status} from {self._path}", _retry_after(response.getheader("Retry-After"))
            )
        if status != 200:
            reason = f"HTTP {status}: {payload[:500].decode('utf-8', 'replace')}"
            return SendResult(0, [reason] * len(events))
        report = json.loads(payload)
        rejected = [str(error.get("reason")) for error in report.get("errors", [])]
        return SendResult(int(report["accepted"]) + int(report["duplicate"]), rejected)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
