"""``driftline scheduler``: APScheduler 3 as the clock around :func:`detectors.scheduler.tick`.

One interval job looks for due windows every ``tick_seconds`` (closed by the watermark, see
``detectors.scheduler``); ``coalesce`` and ``max_instances=1`` keep a slow tick from piling up.
An aggregates job keeps the window aggregates (``detectors.maintenance``) and a retention job
deletes old raw events and buckets. Two more jobs evaluate alert rules on new
runs (every ``alerting.evaluate_seconds``) and send due webhooks from the outbox. Several
schedulers may run at once (for availability): the claim rows make each window run exactly once.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from alerting.evaluate import evaluate_no_data, evaluate_runs
from alerting.notify import flush_due
from alerting.webhooks.dispatcher import dispatch_due
from detectors.maintenance import maintain
from detectors.scheduler import tick
from driftline.aggregates.retention import expire
from driftline.core.aggregate_settings import AggregateSettings
from driftline.core.settings import Settings
from driftline.core.storage import Database, check_at_head
from driftline.probes import serve_probes
from driftline.telemetry import RUN_STATUSES, SCHEDULER

__all__ = ["SchedulerMetrics", "run", "start_background"]

log = logging.getLogger(__name__)
DISPATCH_SECONDS = 2.0
MAX_BATCHES_PER_DISPATCH = 50


class SchedulerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.runs = Counter(
            SCHEDULER.RUNS.name.removesuffix("_total"),
            SCHEDULER.RUNS.help,
            SCHEDULER.RUNS.labels,
            registry=registry,
        )
        for status in RUN_STATUSES:  # zeros from the start, so failure alerts have a series
            self.runs.labels(status)
        self.run_seconds = Histogram(
            SCHEDULER.RUN_SECONDS.name, SCHEDULER.RUN_SECONDS.help, registry=registry
        )
        self.last_tick = Gauge(
            SCHEDULER.LAST_TICK.name, SCHEDULER.LAST_TICK.help, registry=registry
        )
        self.up = Gauge(SCHEDULER.UP.name, SCHEDULER.UP.help, registry=registry)


def _job(
    database: Database, metrics: SchedulerMetrics, owner: str, settings: AggregateSettings
) -> None:
    started = time.time()
    try:
        result = tick(database, owner, aggregates=settings)
    except Exception:  # the database may be down: try again at the next tick
        log.exception("scheduler tick failed")
        return
    metrics.last_tick.set(started)
    for run in result.ran:
        metrics.runs.labels(run.status).inc()
        metrics.run_seconds.observe(run.duration_s)
    if result.failed:
        metrics.runs.labels("failed").inc(len(result.failed))


def _alerting_job(database: Database, settings: Settings) -> None:
    now = datetime.now(UTC)
    try:
        evaluate_runs(database, settings.alerting, now)
        evaluate_no_data(database, settings.alerting, now)
        flush_due(database, settings, now)
    except Exception:  # the database may be down: the cursors make the next try catch up
        log.exception("alert evaluation failed")


def _dispatch_job(database: Database, settings: Settings) -> None:
    try:
        for _ in range(MAX_BATCHES_PER_DISPATCH):  # drain what is due, one leased batch at a time
            if not dispatch_due(database, settings):
                break
    except Exception:
        log.exception("webhook dispatch failed")


def _aggregates_job(database: Database, settings: AggregateSettings, owner: str) -> None:
    try:
        maintain(database, settings, owner)
    except Exception:  # every step resumes from the database at the next pass
        log.exception("aggregate maintenance failed")


def _retention_job(database: Database, settings: AggregateSettings) -> None:
    try:
        expire(
            database,
            datetime.now(UTC),
            settings.raw_retention_days,
            settings.aggregate_retention_days,
        )
    except Exception:
        log.exception("retention failed")


def _mlflow_job(database: Database, settings: Settings) -> None:
    from driftline.mlflow_registry.writeback import write_back  # imports MLflow: only if on

    try:
        write_back(database, settings)
    except Exception:  # the cursor in mlflow_links makes the next pass catch up
        log.exception("MLflow write-back failed")


def _configure(
    scheduler: BaseScheduler, settings: Settings, database: Database, metrics: SchedulerMetrics
) -> None:
    owner = f"{socket.gethostname()}:{os.getpid()}"
    scheduler.add_job(
        _job,
        IntervalTrigger(seconds=settings.scheduler.tick_seconds),
        args=(database, metrics, owner, settings.aggregates),
        id="detection-tick",
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC),
        misfire_grace_time=None,
    )
    # Alerting rides along: the rules see each stored run within seconds, and the outbox is
    # drained by every scheduler (leases keep them from sending a message twice at once).
    scheduler.add_job(
        _alerting_job,
        IntervalTrigger(seconds=settings.alerting.evaluate_seconds),
        args=(database, settings),
        id="alerting",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    # Aggregates: new references' layouts and rebuilds, compaction, late-window re-evaluation;
    # and the retention of raw events (hourly by default).
    scheduler.add_job(
        _aggregates_job,
        IntervalTrigger(seconds=settings.aggregates.maintenance_seconds),
        args=(database, settings.aggregates, owner),
        id="aggregates",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    scheduler.add_job(
        _retention_job,
        IntervalTrigger(seconds=settings.aggregates.retention_seconds),
        args=(database, settings.aggregates),
        id="retention",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    if settings.mlflow.write_back:  # results as tags on the MLflow model versions
        scheduler.add_job(
            _mlflow_job,
            IntervalTrigger(seconds=settings.mlflow.write_back_seconds),
            args=(database, settings),
            id="mlflow-write-back",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
    scheduler.add_job(
        _dispatch_job,
        IntervalTrigger(seconds=DISPATCH_SECONDS),
        args=(database, settings),
        id="webhook-dispatch",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )


def start_background(
    settings: Settings, database: Database, registry: CollectorRegistry
) -> BackgroundScheduler:
    """Inside ``driftline up``: the scheduler on a background thread; call ``shutdown()``."""
    metrics = SchedulerMetrics(registry)
    scheduler = BackgroundScheduler(timezone=UTC)
    _configure(scheduler, settings, database, metrics)
    scheduler.start()
    metrics.up.set(1)
    return scheduler


def run(settings: Settings) -> None:
    """Schedule until SIGTERM/SIGINT; a run in progress finishes first."""
    database = Database(settings.database)
    check_at_head(database)
    registry = CollectorRegistry()
    metrics = SchedulerMetrics(registry)
    scheduler = BlockingScheduler(timezone=UTC)
    _configure(scheduler, settings, database, metrics)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the run in progress", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    probes = serve_probes(
        settings.scheduler.metrics_host, settings.scheduler.metrics_port, registry, lambda: True
    )
    metrics.up.set(1)
    try:
        scheduler.start()  # blocks until shutdown
    finally:
        metrics.up.set(0)
        probes.close()
        database.dispose()
