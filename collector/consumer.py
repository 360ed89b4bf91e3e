"""What the loop needs from a Kafka consumer, the kafka-python one, and an in-memory one.

The in-memory consumer follows kafka-python's semantics that matter here (paused partitions
return nothing, positions advance on poll, commits are explicit, revocation on rebalance), so
the loop's unit tests run without a broker; the same behaviours are then tested on a real one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from driftline.core.settings import KafkaSettings

__all__ = ["Consumer", "InMemoryConsumer", "Message", "kafka_consumer"]


class Message(Protocol):
    topic: str
    partition: int
    offset: int
    value: bytes | None


class Consumer(Protocol):
    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[Any, list[Any]]: ...
    def pause(self, *partitions: Any) -> None: ...
    def resume(self, *partitions: Any) -> None: ...
    def assignment(self) -> set[Any]: ...
    def commit(self, offsets: dict[Any, Any] | None = None) -> None: ...
    def end_offsets(self, partitions: list[Any]) -> dict[Any, int]: ...
    def close(self, autocommit: bool = True) -> None: ...


def kafka_consumer(settings: KafkaSettings, on_revoked: Callable[[set[Any]], None]) -> Any:
    """A kafka-python consumer subscribed to the events topic, auto-commit off."""
    from kafka import ConsumerRebalanceListener, KafkaConsumer

    if settings.enable_auto_commit:
        raise ValueError(
            "DRIFTLINE_KAFKA__ENABLE_AUTO_COMMIT=true would commit offsets before events are "
            "stored and lose them on a crash; the collector refuses to start with it"
        )

    class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
        def on_partitions_revoked(self, revoked: Any) -> None:
            on_revoked(set(revoked))

        def on_partitions_assigned(self, assigned: Any) -> None:
            pass  # positions resume from the committed offsets

    consumer = KafkaConsumer(
        group_id=settings.group_id,
        enable_auto_commit=False,
        auto_offset_reset=settings.auto_offset_reset,
        max_poll_records=settings.max_poll_records,
        max_poll_interval_ms=settings.max_poll_interval_ms,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        fetch_max_bytes=max(52_428_800, settings.max_message_bytes * 2),
        max_partition_fetch_bytes=max(1_048_576, settings.max_message_bytes + 1024),
        client_id="driftline-collector",
        **settings.client_options(),
    )
    consumer.subscribe([settings.topic], listener=Listener())
    return consumer


@dataclass(frozen=True)
class Partition:
    topic: str
    partition: int


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    value: bytes | None


class InMemoryConsumer:
    """A single-member consumer group over in-memory partitions."""

    def __init__(self, topic: str, partitions: int) -> None:
        self.logs: dict[Partition, list[bytes | None]] = {
            Partition(topic, p): [] for p in range(partitions)
        }
        self.committed: dict[Partition, int] = {}
        self.positions: dict[Partition, int] = {}
        self.paused: set[Partition] = set()
        self.owned: set[Partition] = set(self.logs)
        self.on_revoked: Callable[[set[Any]], None] = lambda revoked: None
        self.polls = 0
        self.closed = False

    def produce(self, partition: int, values: Iterable[bytes | None]) -> None:
        self.logs[Partition(next(iter(self.logs)).topic, partition)].extend(values)

    def revoke(self, partitions: set[Partition]) -> None:
        """What a rebalance does: the callback, then positions fall back to committed."""
        self.on_revoked(partitions)
        self.owned -= partitions
        for tp in partitions:
            self.positions.pop(tp, None)

    def assign(self, partitions: set[Partition]) -> None:
        self.owned |= partitions

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[Any, list[Any]]:
        self.polls += 1
        out: dict[Any, list[Any]] = {}
        budget = max_records or 500
        for tp in sorted(self.owned, key=lambda p: p.partition):
            if tp in self.paused or budget <= 0:
                continue
            start = self.positions.get(tp, self.committed.get(tp, 0))
            values = self.logs[tp][start : start + budget]
            if values:
                out[tp] = [
                    Record(tp.topic, tp.partition, start + i, v) for i, v in enumerate(values)
                ]
                self.positions[tp] = start + len(values)
                budget -= len(values)
        return out

    def pause(self, *partitions: Any) -> None:
        self.paused |= set(partitions)

    def resume(self, *partitions: Any) -> None:
        self.paused -= set(partitions)

    def assignment(self) -> set[Any]:
        return set(self.owned)

    def commit(self, offsets: dict[Any, Any] | None = None) -> None:
        for tp, meta in (offsets or {}).items():
            if tp not in self.owned:
                raise RuntimeError(f"commit for a partition not owned: {tp}")
            self.committed[tp] = meta.offset

    def end_offsets(self, partitions: list[Any]) -> dict[Any, int]:
        return {tp: len(self.logs[tp]) for tp in partitions}

    def close(self, autocommit: bool = True) -> None:
        self.closed = True
