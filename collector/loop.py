"""The consume loop: poll a batch, write it in one transaction, then commit its offsets.

Offsets move only after the database commit, so a crash at any point re-delivers what was not
stored, and idempotent inserts make the re-delivery harmless: no loss, no duplicates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from kafka.structs import OffsetAndMetadata

from collector.batch_gc import no_cycle_collection
from collector.consumer import Consumer
from collector.dead_letter_topic import DeadLetterTopic
from collector.decode import Decoded, Origin, decode_message
from collector.metrics import CollectorMetrics
from collector.writer import BatchResult, database_unavailable, write_batch, write_one_by_one
from driftline.core.settings import Settings
from driftline.core.storage import Database

__all__ = ["Collector"]

log = logging.getLogger(__name__)
LAG_EVERY_S = 15.0


@dataclass
class _InFlight:
    """A batch handed to the writer thread: its records (for the offsets) and the outcome."""

    pending: dict[Any, list[Any]]
    written: Future[BatchResult | Exception]


class Collector:
    def __init__(
        self,
        database: Database,
        metrics: CollectorMetrics,
        settings: Settings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.consumer: Consumer | None = None
        self.dead_letter_topic: DeadLetterTopic | None = None  # copies of dead letters, optional
        self._database = database
        self._metrics = metrics
        self._kafka = settings.kafka
        self._collector = settings.collector
        self._clock = clock
        self._revoked: set[Any] = set()
        self._committed: dict[Any, int] = {}
        self._stopping = False
        self._next_lag = 0.0
        self.ready = True

    # -- lifecycle -------------------------------------------------------------------------

    def on_revoked(self, partitions: set[Any]) -> None:
        """Rebalance callback (runs inside poll): records of these partitions that are not yet
        stored are abandoned, never committed; their new owner reads them again."""
        log.info("partitions revoked: %s", sorted(str(p) for p in partitions))
        self._revoked |= partitions

    def stop(self) -> None:
        """Finish the batch in hand, commit it, leave the group (safe from a signal handler)."""
        self._stopping = True

    def run(self) -> None:
        """Consume until stopped, decoding each batch while the previous one is being written
        (see ``_pipelined_step``)."""
        consumer = self._require_consumer()
        self._metrics.up.set(1)
        self._metrics.ready.set(1)
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collector-writer")
        inflight: _InFlight | None = None
        try:
            while not self._stopping:
                inflight = self._pipelined_step(writer, inflight)
            if inflight is not None:
                self._finish(inflight)
        finally:
            writer.shutdown(wait=True)
            consumer.close(autocommit=False)  # leaves the group; offsets were committed already
            self._metrics.up.set(0)

    def _pipelined_step(
        self, writer: ThreadPoolExecutor, inflight: _InFlight | None
    ) -> _InFlight | None:
        """Poll and decode batch N+1 while batch N is written in the writer thread (the
        database driver waits for the server without the GIL, so decoding and the server's work
        overlap), then commit N and hand N+1 to the writer.

        The guarantees are those of ``step``: offsets of a batch are committed, from this
        thread, only after its transaction committed. If batch N failed, N and N+1 go through
        ``_handle`` together: the same retries, pausing and one-by-one fallback as ``step``.
        """
        consumer = self._require_consumer()
        self._revoked.clear()
        # While a batch is being written, wait briefly: its write, not the poll, is the pace.
        batch = consumer.poll(
            timeout_ms=100 if inflight else 1000, max_records=self._kafka.max_poll_records
        )
        pending = {tp: list(records) for tp, records in batch.items()} if batch else {}
        decoded = None
        if pending:
            with no_cycle_collection():
                decoded = self._decode(pending)
        if inflight is not None and not self._finish(inflight):
            for tp, records in pending.items():
                inflight.pending.setdefault(tp, []).extend(records)
            self._handle(inflight.pending)
            decoded = None
        self._report_lag()
        if decoded is None:
            return None
        return _InFlight(pending, writer.submit(self._try_write, decoded))

    def _finish(self, inflight: _InFlight) -> bool:
        """Wait for a batch handed to the writer; count and commit it if it was written."""
        written = inflight.written.result()
        if not isinstance(written, BatchResult):
            return False
        self._set_ready(True)
        self._count(written)
        self._copy_dead_letters(written)
        self._commit(inflight.pending)
        return True

    def step(self) -> None:
        consumer = self._require_consumer()
        self._revoked.clear()
        batch = consumer.poll(timeout_ms=1000, max_records=self._kafka.max_poll_records)
        if batch:
            pending = {tp: list(records) for tp, records in batch.items()}
            self._handle(pending)
        self._report_lag()

    def _require_consumer(self) -> Consumer:
        if self.consumer is None:
            raise RuntimeError("set Collector.consumer before running")
        return self.consumer

    # -- one batch -------------------------------------------------------------------------

    def _decode(self, pending: dict[Any, list[Any]]) -> Decoded:
        decoded = Decoded([], [], [])
        for records in pending.values():
            for record in records:
                origin = Origin(record.topic, record.partition, record.offset)
                decode_message(record.value, origin, self._kafka.max_message_bytes, decoded)
            self._metrics.messages.labels(records[0].topic).inc(len(records))
        return decoded

    def _handle(self, pending: dict[Any, list[Any]]) -> None:
        consumer = self._require_consumer()
        try:
            result = self._write_with_retry(pending)
        finally:
            # Whatever happened, no partition may stay paused: a paused partition is never
            # read again by this member.
            consumer.resume(*consumer.assignment())
        if result is None:
            return  # abandoned: nothing committed, the next owner or run reads these again
        self._set_ready(True)
        self._count(result)
        self._copy_dead_letters(result)
        self._commit(pending)

    def _copy_dead_letters(self, result: BatchResult) -> None:
        """After the database stored them, before the offsets move (see dead_letter_topic)."""
        if self.dead_letter_topic is None or not result.letters:
            return
        failed = self.dead_letter_topic.publish(result.letters)
        if failed:
            self._metrics.dead_letter_topic_failures.inc(failed)

    def _write_with_retry(self, pending: dict[Any, list[Any]]) -> BatchResult | None:
        consumer = self._require_consumer()
        backoff = 0.1
        while True:
            with no_cycle_collection():
                decoded = self._decode(pending)
            written = self._try_write(decoded)
            if isinstance(written, BatchResult):
                return written
            exc = written  # the database failed the batch
            if not database_unavailable(exc):
                return write_one_by_one(
                    self._database, decoded, exc, self._collector.dead_letter_payload_bytes
                )
            self._set_ready(False)
            self._metrics.db_retries.inc()
            log.warning(
                "database unavailable, retrying in %.1fs: %s", backoff, str(exc).splitlines()[0]
            )
            consumer.pause(*consumer.assignment())
            self._wait(backoff, pending)
            backoff = min(backoff * 2, self._collector.retry_backoff_max_s)
            if self._stopping or not pending:
                return None

    def _try_write(self, decoded: Decoded) -> BatchResult | Exception:
        try:
            with no_cycle_collection(), self._metrics.batch_seconds.time():
                return write_batch(
                    self._database, decoded, self._collector.dead_letter_payload_bytes
                )
        except Exception as exc:  # judged by the caller: outage (retry) or refused data
            return exc

    def _wait(self, seconds: float, pending: dict[Any, list[Any]]) -> None:
        """Keep polling (group membership) while paused; adopt records of partitions assigned
        meanwhile, drop those of partitions revoked meanwhile."""
        consumer = self._require_consumer()
        deadline = self._clock() + seconds
        while (remaining := deadline - self._clock()) > 0 and not self._stopping:
            extra = consumer.poll(
                timeout_ms=int(min(remaining, 1.0) * 1000), max_records=self._kafka.max_poll_records
            )
            # A rebalance inside that poll revoked these before it returned records: drop what
            # we hold for them (their positions went back to the committed offsets) ...
            for tp in self._revoked:
                pending.pop(tp, None)
            self._revoked.clear()
            # ... then adopt what the poll returned, from partitions assigned now.
            for tp, records in extra.items():
                pending.setdefault(tp, []).extend(records)
            consumer.pause(*consumer.assignment())  # newly assigned partitions too

    def _commit(self, pending: dict[Any, list[Any]]) -> None:
        consumer = self._require_consumer()
        owned = consumer.assignment()
        offsets = {
            tp: OffsetAndMetadata(records[-1].offset + 1, "", -1)
            for tp, records in pending.items()
            if tp in owned and records
        }
        if not offsets:
            return
        try:
            consumer.commit(offsets)
        except Exception as exc:  # CommitFailedError after a rebalance: stored, re-read, deduped
            log.warning(
                "offset commit failed (%s); those events will be re-read and counted as duplicates",
                exc,
            )
            return
        for tp, meta in offsets.items():
            self._committed[tp] = meta.offset
            self._metrics.committed_offset.labels(tp.topic, str(tp.partition)).set(meta.offset)

    def _count(self, result: BatchResult) -> None:
        for model, n in result.stored.items():
            self._metrics.events.labels(model, "stored").inc(n)
        for model, n in result.duplicate.items():
            self._metrics.events.labels(model, "duplicate").inc(n)
        for reason, n in result.dead_lettered.items():
            self._metrics.dead_letters.labels(reason).inc(n)

    def _set_ready(self, ready: bool) -> None:
        self.ready = ready
        self._metrics.ready.set(1 if ready else 0)

    def _report_lag(self) -> None:
        if self._clock() < self._next_lag or not self._committed:
            return
        self._next_lag = self._clock() + LAG_EVERY_S
        try:
            ends = self._require_consumer().end_offsets(list(self._committed))
        except Exception as exc:  # lag is informative; never stop consuming for it
            log.debug("end offsets unavailable: %s", exc)
            return
        for tp, end in ends.items():
            lag = max(0, end - self._committed.get(tp, 0))
            self._metrics.lag.labels(tp.topic, str(tp.partition)).set(lag)
