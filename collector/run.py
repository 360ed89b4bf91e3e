"""``driftline collector``: the process around the loop (signals, probes, the consumer)."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from prometheus_client import CollectorRegistry

from collector.consumer import kafka_consumer
from collector.dead_letter_topic import DeadLetterTopic, kafka_producer
from collector.loop import Collector
from collector.metrics import CollectorMetrics
from driftline.core.settings import Settings
from driftline.core.storage import Database, check_at_head
from driftline.probes import serve_probes

__all__ = ["build", "run"]

log = logging.getLogger(__name__)


def build(settings: Settings, database: Database, registry: CollectorRegistry) -> Collector:
    """A collector with its Kafka consumer, ready to ``run()`` (in a thread if need be)."""
    if not settings.kafka.bootstrap_servers:
        raise ValueError("set DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS to run the collector")
    collector = Collector(database, CollectorMetrics(registry), settings)
    collector.consumer = kafka_consumer(settings.kafka, collector.on_revoked)
    if settings.kafka.dead_letter_topic:
        collector.dead_letter_topic = DeadLetterTopic(
            kafka_producer(settings.kafka),
            settings.kafka.dead_letter_topic,
            settings.collector.dead_letter_payload_bytes,
        )
    return collector


def run(
    settings: Settings, database: Database | None = None, install_signals: bool = True
) -> Collector:
    """Consume until SIGTERM/SIGINT (or ``Collector.stop()``), then leave the group cleanly.

    Returns the stopped collector. With ``install_signals=False`` (inside ``driftline up``,
    where the caller owns the signals) call it from a thread and stop it yourself.
    """
    if not settings.kafka.bootstrap_servers:
        raise ValueError("set DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS to run the collector")
    owned = database is None
    database = database or Database(settings.database)
    check_at_head(database)
    registry = CollectorRegistry()
    collector = build(settings, database, registry)
    probes = None
    if install_signals:

        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %d: finishing the current batch, then leaving the group", signum)
            collector.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        probes = serve_probes(
            settings.collector.metrics_host,
            settings.collector.metrics_port,
            registry,
            lambda: collector.ready,
        )
    log.info(
        "collector consuming %s from %s as group %s",
        settings.kafka.topic,
        settings.kafka.bootstrap_servers,
        settings.kafka.group_id,
    )
    try:
        collector.run()
    finally:
        if collector.dead_letter_topic is not None:
            collector.dead_letter_topic.close()
        if probes is not None:
            probes.close()
        if owned:
            database.dispose()
    return collector
