"""``GET /metrics``: the monitoring results from the database, in Prometheus's text format.

Kept in its own module so access control (issue 8) can wrap this one route. Under
``driftline up`` the same registry also holds the scheduler's and the collector's process
metrics, so one scrape target has everything.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from driftline.core.storage import Database
from driftline.exporter import ResultsCollector

__all__ = ["install_metrics", "router"]

router = APIRouter(tags=["metrics"])


def install_metrics(app: FastAPI, registry: CollectorRegistry | None = None) -> None:
    """Serve ``registry`` (a new one by default) with the results collector added to it."""
    registry = registry if registry is not None else CollectorRegistry()

    def database() -> Database:
        found: Database = app.state.database  # set by the lifespan before any request
        return found

    registry.register(ResultsCollector(database))
    app.state.metrics_registry = registry
    app.include_router(router)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Plain ``def``: the database read runs in the thread pool, not on the event loop."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
