"""The background worker: drains the bounded queue in batches and sends them.

Callers only append to a ``deque`` (atomic under the GIL, no lock) and set an event when a batch
is full; everything slow — encoding, network, retries with backoff — happens on this thread.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional

from driftline_sdk._encode import encode_events
from driftline_sdk._log import logger, warn_limited
from driftline_sdk._options import Options
from driftline_sdk._stats import Stats
from driftline_sdk.transports.base import RetryableError, Transport

__all__ = ["Worker"]


class Worker:
    def __init__(
        self, options: Options, stats: Stats, transport_factory: Callable[[], Transport]
    ) -> None:
        self.queue: Deque[Dict[str, Any]] = deque()
        self.wake = threading.Event()
        self._options = options
        self._stats = stats
        self._factory = transport_factory
        self._transport: Optional[Transport] = None
        self._pending: List[Any] = []  # the batch being delivered: raw, then (id, JSON bytes)
        self._stop = threading.Event()
        self._abandoned = False
        self._reported: Dict[str, int] = {}
        # Guards moving events between queue, pending and the counters, so queued() never
        # misses an event that is between two places and stop() never counts one twice.
        self._accounting = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="driftline-sdk-worker", daemon=True)
        self._thread.start()

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def queued(self) -> int:
        with self._accounting:
            return len(self.queue) + len(self._pending)

    # -- the thread ----------------------------------------------------------------------

    def _report_caller_drops(self) -> None:
        """Log drops counted on callers' threads (queue full, invalid input) from here, so a
        logging handler never runs inside a caller's log call."""
        dropped = self._stats.snapshot(0)["dropped"]
        assert isinstance(dropped, dict)
        for reason in ("queue_full", "invalid"):
            count = dropped.get(reason, 0)
            if count > self._reported.get(reason, 0):
                self._reported[reason] = count
                warn_limited(
                    reason,
                    "driftline: %d event(s) dropped so far (%s); last error: %s",
                    count,
                    reason,
                    self._stats.last_error,
                )

    def _run(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            self._report_caller_drops()
            if not self._pending:
                if len(self.queue) < self._options.batch_size:
                    self.wake.wait(self._options.flush_interval)
                self.wake.clear()
                self._take()
                if not self._pending:
                    continue
            delay = self._deliver()
            if delay is None:
                backoff = 0.0
                continue
            self._stats.retries += 1
            backoff = min(self._options.max_backoff, max(0.2, backoff * 2))
            self._stop.wait(delay if delay is not None and delay > 0 else backoff)
        self._close_transport()

    def _take(self) -> None:
        with self._accounting:
            raw: List[Dict[str, Any]] = []
            self._pending = raw
            for _ in range(min(self._options.batch_size, len(self.queue))):
                raw.append(self.queue.popleft())
        if not raw:
            return
        encoded, bad = encode_events(raw, self._options.model, self._options.model_version)
        with self._accounting:
            if bad:
                self._stats.dropped("unserializable", len(bad))
                self._stats.last_error = bad[-1]
            self._pending = encoded
        if bad:
            warn_limited(
                "unserializable", "driftline: dropped %d unsendable event(s): %s", len(bad), bad[-1]
            )

    def _deliver(self) -> Optional[float]:
        """Send the pending batch; ``None`` when done with it, else seconds to wait (0: backoff)."""
        batch = self._pending
        try:
            if self._transport is None:
                self._transport = self._factory()
            result = self._transport.send(batch)
        except RetryableError as exc:
            self._stats.last_error = str(exc)
            warn_limited("retry", "driftline: delivery failed, will retry: %s", exc)
            return exc.retry_after or 0.0
        except Exception as exc:  # a bug or a broken transport: count it, keep the worker alive
            with self._accounting:
                if not self._abandoned:
                    self._stats.dropped("internal_error", len(batch))
                    self._stats.last_error = repr(exc)
                self._pending = []
            logger.exception("driftline: dropped a batch of %d events", len(batch))
            self._close_transport()
            return None
        with self._accounting:
            if not self._abandoned:
                self._stats.sent += result.delivered
                if result.rejected:
                    self._stats.dropped("rejected", len(result.rejected))
                    self._stats.last_error = result.rejected[-1]
            self._pending = []
        if result.rejected:
            warn_limited(
                "rejected",
                "driftline: the server rejected %d event(s): %s",
                len(result.rejected),
                result.rejected[-1],
            )
        return None

    def _close_transport(self) -> None:
        if self._transport is not None:
            with contextlib.suppress(Exception):
                self._transport.close()
            self._transport = None

    # -- called from other threads -------------------------------------------------------

    def flush(self, timeout: float) -> int:
        """Wait until everything queued is delivered or ``timeout`` passes; the number left."""
        deadline = time.monotonic() + timeout
        while self.queued() and time.monotonic() < deadline and self._thread.is_alive():
            self.wake.set()
            time.sleep(min(0.005, max(0.0, deadline - time.monotonic())))
        return self.queued()

    def stop(self, timeout: float) -> int:
        """Flush for up to ``timeout``, stop the thread; returns how many events were given up."""
        self.flush(timeout)
        self._stop.set()
        self.wake.set()
        self._thread.join(timeout=0.05)
        with self._accounting:
            self._abandoned = True  # a send still under way must not count what we give up now
            left = len(self.queue) + len(self._pending)
            self.queue.clear()
            self._pending = []
        return left
