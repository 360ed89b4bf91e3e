"""The collector's process metrics, registered on a registry passed in."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from driftline.telemetry import COLLECTOR, DEAD_LETTER_REASONS, MetricSpec

__all__ = ["CollectorMetrics"]


def _counter(spec: MetricSpec, registry: CollectorRegistry) -> Counter:
    # prometheus_client appends "_total" itself; the catalogue names the full series.
    return Counter(spec.name.removesuffix("_total"), spec.help, spec.labels, registry=registry)


def _gauge(spec: MetricSpec, registry: CollectorRegistry) -> Gauge:
    return Gauge(spec.name, spec.help, spec.labels, registry=registry)


class CollectorMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.messages = _counter(COLLECTOR.MESSAGES, registry)
        self.events = _counter(COLLECTOR.EVENTS, registry)
        self.dead_letters = _counter(COLLECTOR.DEAD_LETTERS, registry)
        for reason in DEAD_LETTER_REASONS:  # zeros from the start, so rate() has a series
            self.dead_letters.labels(reason)
        self.db_retries = _counter(COLLECTOR.DB_RETRIES, registry)
        self.dead_letter_topic_failures = _counter(COLLECTOR.DEAD_LETTER_TOPIC_FAILURES, registry)
        self.batch_seconds = Histogram(
            COLLECTOR.BATCH_SECONDS.name,
            COLLECTOR.BATCH_SECONDS.help,
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.committed_offset = _gauge(COLLECTOR.COMMITTED_OFFSET, registry)
        self.lag = _gauge(COLLECTOR.LAG, registry)
        self.up = _gauge(COLLECTOR.UP, registry)
        self.ready = _gauge(COLLECTOR.READY, registry)
