"""Counters that many threads bump without a lock.

``itertools.count`` advances atomically under the GIL, so logging threads never contend on a
lock just to count; the value is read back through its pickle state.
"""

from __future__ import annotations

import itertools
import threading
from typing import Dict, Optional

__all__ = ["Stats"]


def _value(counter: itertools.count[int]) -> int:
    return int(counter.__reduce__()[1][0])


class Stats:
    def __init__(self) -> None:
        self._logged = itertools.count()
        self.sent = 0  # written by the worker thread only
        self.retries = 0  # written by the worker thread only
        self._dropped: Dict[str, itertools.count[int]] = {}
        self._lock = threading.Lock()  # only for creating a new reason's counter
        self.last_error: Optional[str] = None

    def logged(self) -> None:
        next(self._logged)

    def dropped(self, reason: str, n: int = 1) -> None:
        counter = self._dropped.get(reason)
        if counter is None:
            with self._lock:
                counter = self._dropped.setdefault(reason, itertools.count())
        for _ in range(n):
            next(counter)

    def snapshot(self, queued: int) -> Dict[str, object]:
        return {
            "logged": _value(self._logged),
            "sent": self.sent,
            "queued": queued,
            "dropped": {reason: _value(c) for reason, c in sorted(self._dropped.items())},
            "retries": self.retries,
            "last_error": self.last_error,
        }
