"""A prometheus-client collector turning a :class:`Snapshot` into the ``RESULTS`` families.

Values come from the database at scrape time, so every API replica reports the same numbers. A
snapshot is reused for ``ttl`` seconds: several Prometheus servers (or a quick reload) scraping
at once cost one read. When the database cannot be read, only ``driftline_database_up 0`` is
reported, so stale values never look current.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from driftline.core.storage import Database
from driftline.exporter.snapshot import Snapshot, VersionResults, read_snapshot
from driftline.telemetry import RESULTS, RUN_STATUSES, MetricSpec

__all__ = ["ResultsCollector", "families"]

log = logging.getLogger(__name__)
_SPECS = [v for v in vars(RESULTS).values() if isinstance(v, MetricSpec)]


class _Families:
    """One metric family per spec, filled sample by sample."""

    def __init__(self) -> None:
        self.by_name: dict[str, GaugeMetricFamily | CounterMetricFamily] = {}
        for spec in _SPECS:
            kind = CounterMetricFamily if spec.kind == "counter" else GaugeMetricFamily
            self.by_name[spec.name] = kind(spec.name, spec.help, labels=spec.labels)

    def add(self, spec: MetricSpec, labels: Iterable[str], value: float | None) -> None:
        if value is not None:  # a statistic the method does not produce is absent, not 0
            self.by_name[spec.name].add_metric(list(labels), float(value))


def _version(out: _Families, v: VersionResults) -> None:
    mv = (v.model, v.version)
    last = v.latest
    out.add(RESULTS.LAST_RUN_TIMESTAMP, mv, last.finished_at)
    out.add(RESULTS.LAST_RUN_EVENTS, mv, last.n_events)
    out.add(RESULTS.LAST_RUN_DURATION, mv, last.duration_s)
    for status in RUN_STATUSES:
        out.add(RESULTS.LAST_RUN_STATUS, (*mv, status), 1.0 if last.status == status else 0.0)
    run = v.completed
    if run is None:
        return
    out.add(RESULTS.LAST_RUN_ID, mv, run.id)
    out.add(RESULTS.DRIFT_SHARE, mv, run.drift_share)
    out.add(RESULTS.DATASET_DRIFTED, mv, run.dataset_drift)
    out.add(RESULTS.DRIFTED_FEATURES, mv, run.drifted_features)
    out.add(RESULTS.LABEL_COVERAGE, mv, run.performance.get("label_coverage"))
    for metric, value in sorted(run.performance.items()):
        if metric not in ("label_coverage", "labelled_events"):
            out.add(RESULTS.PERFORMANCE, (*mv, metric), value)
    for segment, share in sorted(run.segments.items()):
        out.add(RESULTS.SEGMENT_DRIFT_SHARE, (*mv, segment), share)
    for f in v.features:
        if f.is_prediction:
            out.add(RESULTS.PREDICTION_STATISTIC, (*mv, f.method), f.statistic)
            out.add(RESULTS.PREDICTION_DRIFTED, mv, f.drifted)
            continue
        fm = (*mv, f.feature, f.method)
        out.add(RESULTS.FEATURE_STATISTIC, fm, f.statistic)
        out.add(RESULTS.FEATURE_P_VALUE, fm, f.p_value)
        out.add(RESULTS.FEATURE_EFFECT_SIZE, fm, f.effect_size)
        out.add(RESULTS.FEATURE_THRESHOLD, fm, f.threshold)
        out.add(RESULTS.FEATURE_DRIFTED, (*fm[:3], "true" if f.key else "false"), f.drifted)
        out.add(RESULTS.FEATURE_PSI, fm[:3], f.psi)
        out.add(RESULTS.FEATURE_SAMPLE_SIZE, (*fm[:3], "reference"), f.reference_size)
        out.add(RESULTS.FEATURE_SAMPLE_SIZE, (*fm[:3], "current"), f.current_size)
        for check, share in f.quality.items():
            out.add(RESULTS.DATA_QUALITY, (*fm[:3], check), share)


def families(snapshot: Snapshot) -> list[Metric]:
    """The ``RESULTS`` families for one snapshot (``driftline_database_up`` is 1)."""
    out = _Families()
    for version in snapshot.versions:
        _version(out, version)
    for model, n in sorted(snapshot.events_stored.items()):
        out.add(RESULTS.EVENTS_STORED, (model,), n)
    for (model, severity), n in sorted(snapshot.alerts_firing.items()):
        out.add(RESULTS.ALERTS_FIRING, (model, severity), n)
    for (endpoint, outcome), n in sorted(snapshot.webhook_outcomes.items()):
        out.add(RESULTS.WEBHOOK_DELIVERIES, (endpoint, outcome), n)
    for endpoint, n in sorted(snapshot.webhook_pending.items()):
        out.add(RESULTS.WEBHOOK_PENDING, (endpoint,), n)
    out.add(RESULTS.DATABASE_UP, (), 1.0)
    return list(out.by_name.values())


class ResultsCollector(Collector):
    """Register on the API's registry; ``database`` is called at each scrape (the API's handle
    exists only once its lifespan started)."""

    def __init__(self, database: Callable[[], Database], ttl: float = 5.0) -> None:
        self._database = database
        self._ttl = ttl
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def describe(self) -> list[Metric]:
        # Names only: registering must not read the database.
        return [
            (CounterMetricFamily if s.kind == "counter" else GaugeMetricFamily)(s.name, s.help)
            for s in _SPECS
        ]

    def collect(self) -> Iterator[Metric]:
        with self._lock:  # concurrent scrapes wait for one read instead of each doing it
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > self._ttl:
                self._cached = (now, self._read())
            metrics = self._cached[1]
        yield from metrics

    def _read(self) -> list[Metric]:
        try:
            with self._database().read() as session:
                return families(read_snapshot(session))
        except Exception as exc:  # the database is down: say so instead of failing the scrape
            log.warning("monitoring results unavailable for /metrics: %s", exc)
            up = GaugeMetricFamily(RESULTS.DATABASE_UP.name, RESULTS.DATABASE_UP.help)
            up.add_metric([], 0.0)
            return [up]
