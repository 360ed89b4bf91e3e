"""Monitoring results from the database as Prometheus metrics (the API's ``/metrics``)."""

from driftline.exporter.families import ResultsCollector
from driftline.exporter.snapshot import Snapshot, read_snapshot

__all__ = ["ResultsCollector", "Snapshot", "read_snapshot"]
