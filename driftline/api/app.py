"""The FastAPI application, built by :func:`create_app` (nothing happens at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from prometheus_client import CollectorRegistry

import driftline
from driftline.api.auth import AuthState, default_guard
from driftline.api.errors import install_error_handlers
from driftline.api.limits import BodyLimitMiddleware
from driftline.api.routes import (
    aggregates,
    alerts,
    detection,
    events,
    health,
    models,
    references,
    webhooks,
)
from driftline.api.routes import keys as api_keys
from driftline.api.routes.cloudevents import router as cloudevents_router
from driftline.api.routes.metrics import install_metrics
from driftline.core.settings import Settings
from driftline.core.storage import Database, check_at_head

__all__ = ["create_app"]


def create_app(
    settings: Settings,
    database: Database | None = None,
    metrics_registry: CollectorRegistry | None = None,
) -> FastAPI:
    """The API for ``settings``; pass ``database`` to share one handle with other parts, and
    ``metrics_registry`` to serve other parts' process metrics on ``/metrics`` too.

    Start-up refuses a database whose schema is not at the head revision, naming the command
    that fixes it.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        db = database or Database(settings.database)
        try:
            check_at_head(db)
            app.state.database = db
            yield
        finally:
            if owned:
                db.dispose()

    app = FastAPI(
        title="Driftline",
        version=driftline.__version__,
        description="Monitoring and drift detection for machine-learning models.",
        lifespan=lifespan,
        # Every route needs an API key unless it declares otherwise (see driftline.api.auth).
        dependencies=[Depends(default_guard)],
    )
    app.state.settings = settings
    app.state.auth = AuthState.build(settings)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    install_error_handlers(app)
    app.include_router(api_keys.router)
    for module in (health, models, references, events, detection, aggregates, alerts, webhooks):
        app.include_router(module.router)
    app.include_router(cloudevents_router)
    install_metrics(app, metrics_registry)
    return app
