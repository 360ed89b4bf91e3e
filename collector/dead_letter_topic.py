"""Copies of dead letters on a Kafka topic (``DRIFTLINE_KAFKA__DEAD_LETTER_TOPIC``), optional.

The ``dead_letters`` table stays the record: a batch's dead letters are written in its database
transaction, then copied to the topic, then the batch's offsets are committed. The copy is best
effort by design: a broker that refuses or times out (``SEND_TIMEOUT_S``) is logged and counted
(``driftline_collector_dead_letter_topic_failures_total``) and consumption goes on, so the topic
can neither lose a dead letter (it is in the table) nor stall the events behind it. A crash
between the database commit and the offset commit re-reads the batch, so a copy may be sent
twice (at least once, like the table).

Each copy carries the stored payload (capped like the table's) and headers: ``reason``,
``category``, ``source_topic``, ``source_partition``, ``source_offset``, ``model`` (when known)
and ``payload_truncated``; its key is ``topic/partition/offset`` of the source message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from collector.decode import Rejected
from driftline.core.settings import KafkaSettings

__all__ = ["SEND_TIMEOUT_S", "DeadLetterTopic", "kafka_producer"]

log = logging.getLogger(__name__)
SEND_TIMEOUT_S = 10.0


def kafka_producer(settings: KafkaSettings) -> Any:
    """A kafka-python producer for the dead-letter topic (waits for all in-sync replicas)."""
    from kafka import KafkaProducer

    return KafkaProducer(
        acks="all",
        linger_ms=5,
        max_block_ms=int(SEND_TIMEOUT_S * 1000),  # a broker that is down must not hang a batch
        client_id="driftline-collector-dead-letters",
        **settings.client_options(),
    )


class DeadLetterTopic:
    def __init__(self, producer: Any, topic: str, payload_cap: int) -> None:
        self.producer = producer
        self.topic = topic
        self._cap = payload_cap

    def _headers(self, letter: Rejected) -> list[tuple[str, bytes]]:
        headers = [
            ("reason", letter.reason[:4000].encode()),
            ("category", letter.category.encode()),
            ("source_topic", letter.origin.topic.encode()),
            ("source_partition", str(letter.origin.partition).encode()),
            ("source_offset", str(letter.origin.offset).encode()),
            ("payload_truncated", b"true" if len(letter.payload) > self._cap else b"false"),
        ]
        if letter.model is not None:
            headers.append(("model", letter.model.encode()))
        return headers

    def publish(self, letters: Sequence[Rejected]) -> int:
        """Send the copies and wait for the broker, ``SEND_TIMEOUT_S`` at most in all; return
        how many were not delivered."""
        futures = []
        deadline = time.monotonic() + SEND_TIMEOUT_S
        for sent, letter in enumerate(letters):
            origin = letter.origin
            try:
                futures.append(
                    self.producer.send(
                        self.topic,
                        value=letter.payload[: self._cap],
                        key=f"{origin.topic}/{origin.partition}/{origin.offset}".encode(),
                        headers=self._headers(letter),
                    )
                )
            except Exception as exc:  # no metadata in time, buffer full: the broker is away
                log.warning(
                    "%d dead letters not copied to %s: %s", len(letters) - sent, self.topic, exc
                )
                return len(letters) - sent + self._wait(futures, deadline)
        return self._wait(futures, deadline)

    def _wait(self, futures: list[Any], deadline: float) -> int:
        failed = 0
        for future in futures:
            try:
                future.get(timeout=max(0.0, deadline - time.monotonic()))
            except Exception as exc:
                log.warning("dead letter not copied to %s: %s", self.topic, exc)
                failed += 1
        return failed

    def close(self) -> None:
        self.producer.close(timeout=SEND_TIMEOUT_S)
