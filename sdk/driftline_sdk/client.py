"""The client: cheap, non-blocking ``log_*`` calls that never raise into the host app."""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
import weakref
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from driftline_sdk._encode import ID, KIND, OUTPUT, SCORE, TAGS, TIME
from driftline_sdk._ids import keep_for_sample, uuid7
from driftline_sdk._log import logger
from driftline_sdk._options import Options, resolve_options
from driftline_sdk._stats import Stats
from driftline_sdk._worker import Worker
from driftline_sdk.transports.base import make_transport

__all__ = ["Client"]

_clients: weakref.WeakSet[Client] = weakref.WeakSet()


def _epoch(when: Union[None, float, int, datetime]) -> float:
    if when is None:
        return time.time()
    if isinstance(when, datetime):
        if when.tzinfo is None:  # the contract reads naive times as UTC, so must we
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp()
    return float(when)


def _as_mapping(features: Any) -> Mapping[str, Any]:
    if isinstance(features, Mapping):
        return features
    to_dict = getattr(features, "to_dict", None)  # a pandas row (Series)
    if to_dict is not None:
        return dict(to_dict())
    raise TypeError(f"features must be a mapping or a pandas row, not {type(features).__name__}")


class Client:
    """Logs predictions and labels for one model to Driftline.

    >>> client = Client(model="fraud", transport="http://127.0.0.1:9", flush_interval=60)
    >>> event_id = client.log_prediction({"amount": 12.5, "country": "DE"}, "0")
    >>> client.stats()["queued"], client.stats()["logged"]
    (1, 1)
    >>> client.close(timeout=0.01)
    >>> client.stats()["dropped"]
    {'shutdown': 1}
    """

    def __init__(
        self,
        model: Optional[str] = None,
        model_version: Optional[str] = None,
        transport: Optional[str] = None,
        api_key: Optional[str] = None,
        **options: Any,
    ) -> None:
        self.options: Options = resolve_options(
            model=model,
            model_version=model_version,
            transport=transport,
            api_key=api_key,
            **options,
        )
        make_transport(self.options)  # a bad transport URL fails here, at start-up
        self._closed = False
        self._reset()
        self._worker_or_start()  # not on the first log call: starting a thread takes a while
        _clients.add(self)
        atexit.register(self._at_exit)

    def _reset(self) -> None:
        """Fresh state: at start and in a forked child (the parent's thread does not exist
        there, and its locks may have been held at the moment of the fork)."""
        self._pid = os.getpid()
        self._stats = Stats()
        self._worker: Optional[Worker] = None
        self._lock = threading.Lock()

    def _worker_or_start(self) -> Worker:
        if self._pid != os.getpid():
            self._reset()
        worker = self._worker
        if worker is None:
            with self._lock:
                if self._worker is None:
                    options = self.options
                    self._worker = Worker(options, self._stats, lambda: make_transport(options))
                worker = self._worker
        return worker

    def _enqueue(self, event: Dict[str, Any]) -> None:
        if self._closed:
            self._stats.dropped("closed")
            return
        worker = self._worker_or_start()
        queue = worker.queue
        if len(queue) >= self.options.queue_size:
            self._stats.dropped("queue_full")  # the worker logs it: no logging on the caller's path
        else:
            queue.append(event)
            if len(queue) >= self.options.batch_size:
                worker.wake.set()

    def _failed(self, exc: Exception) -> None:
        self._stats.dropped(
            "invalid" if isinstance(exc, (TypeError, ValueError)) else "internal_error"
        )
        self._stats.last_error = repr(exc)

    # -- public API ------------------------------------------------------------------------

    def log_prediction(
        self,
        features: Any,
        prediction: Any,
        *,
        event_id: Optional[str] = None,
        event_time: Union[None, float, datetime] = None,
        tags: Optional[Mapping[str, str]] = None,
        score: Any = None,
    ) -> str:
        """Queue one prediction; returns its ``event_id`` (generated as a UUIDv7 if not given)
        so the label can be logged later. Never blocks, never raises."""
        event_id = event_id or uuid7()
        try:
            if self._pid != os.getpid():
                self._reset()
            self._stats.logged()
            if self.options.sample_rate < 1.0 and not keep_for_sample(
                event_id, self.options.sample_rate
            ):
                self._stats.dropped("sampled")
                return event_id
            event = dict(_as_mapping(features))  # see _encode.KIND: kept flat on purpose
            event[KIND] = "prediction"
            event[ID] = str(event_id)
            event[TIME] = _epoch(event_time)
            event[OUTPUT] = prediction
            if score is not None:
                event[SCORE] = score
            if tags:
                event[TAGS] = dict(tags)
            self._enqueue(event)
        except Exception as exc:
            self._failed(exc)
        return event_id

    def log_predictions(
        self,
        features: Any,
        predictions: Iterable[Any],
        *,
        event_ids: Optional[Sequence[str]] = None,
        event_time: Union[None, float, datetime] = None,
        tags: Optional[Mapping[str, str]] = None,
    ) -> List[str]:
        """Queue a batch: a DataFrame (one row per prediction) or a list of mappings, with the
        predictions in the same order. Returns the event ids."""
        try:
            rows = features.to_dict(orient="records") if hasattr(features, "to_dict") else features
            outputs = list(predictions)
        except Exception as exc:
            self._failed(exc)
            return []
        ids = list(event_ids) if event_ids is not None else [None] * len(outputs)
        return [
            self.log_prediction(row, output, event_id=eid, event_time=event_time, tags=tags)
            for row, output, eid in zip(rows, outputs, ids)
        ]

    def log_label(
        self, event_id: str, label: Any, *, event_time: Union[None, float, datetime] = None
    ) -> None:
        """Queue the true label of an earlier prediction (same ``event_id``)."""
        try:
            if self._pid != os.getpid():
                self._reset()
            self._stats.logged()
            if self.options.sample_rate < 1.0 and not keep_for_sample(
                event_id, self.options.sample_rate
            ):
                self._stats.dropped("sampled")
                return
            self._enqueue(
                {KIND: "label", ID: str(event_id), TIME: _epoch(event_time), OUTPUT: label}
            )
        except Exception as exc:
            self._failed(exc)

    def flush(self, timeout: float = 2.0) -> int:
        """Wait at most ``timeout`` seconds for queued events to be delivered; returns how many
        are still pending (0: everything was delivered)."""
        worker = self._worker
        if worker is None or self._pid != os.getpid():
            return 0
        return worker.flush(timeout)

    def close(self, timeout: Optional[float] = None) -> None:
        """Flush for at most ``timeout`` (default ``shutdown_timeout``), then stop; events not
        delivered by then are counted as ``dropped["shutdown"]`` and logged once."""
        if self._closed:
            return
        self._closed = True
        worker = self._worker
        if worker is None or self._pid != os.getpid():
            return
        left = worker.stop(self.options.shutdown_timeout if timeout is None else timeout)
        if left:
            self._stats.dropped("shutdown", left)
            logger.warning(
                "driftline: %d event(s) not delivered at shutdown (%s)",
                left,
                self._stats.last_error or "timeout",
            )

    def stats(self) -> Dict[str, Any]:
        """sent, queued, dropped by reason, retries, last error — and logged, which always
        equals sent + queued + the sum of dropped once the queue is quiet."""
        worker = self._worker
        return self._stats.snapshot(worker.queued() if worker is not None else 0)

    def _at_exit(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _after_fork_in_child() -> None:
    for client in list(_clients):
        client._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
