"""Token-bucket rate limits per key, in process memory.

Each API process keeps its own buckets: N replicas let a key through up to N times the rate.
That is the price of needing no shared store; the limit exists to stop one runaway client from
starving the others, which per-replica buckets do.

>>> clock = [0.0]
>>> limiter = RateLimiter(rate=1.0, burst=2, clock=lambda: clock[0])
>>> [limiter.wait_time("k") for _ in range(3)]
[0.0, 0.0, 1.0]
>>> clock[0] = 1.0
>>> limiter.wait_time("k")
0.0
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

__all__ = ["RateLimiter"]


class RateLimiter:
    """``rate`` requests per second per key, with bursts up to ``burst``.

    At most ``max_keys`` buckets are kept; the least recently used is dropped first (a dropped
    bucket comes back full, which errs towards letting a request through).
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = float(burst)
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()  # dependencies run in the thread pool

    def wait_time(self, key: Hashable) -> float:
        """Take a token for ``key``: 0.0 when allowed, else seconds until one is available."""
        with self._lock:
            now = self._clock()
            tokens, updated = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - updated) * self.rate)
            if tokens >= 1.0:
                tokens -= 1.0
                wait = 0.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            return wait
