"""Detection results written back as tags on the MLflow model versions they came from.

For each linked version whose newest finished run has not been written yet, the tags
``driftline.drift_verdict`` (``drift`` / ``no_drift``), ``driftline.run_id``,
``driftline.drift_share``, ``driftline.drifted_features``, ``driftline.window_end`` and
``driftline.run_url`` are set, then the run is remembered in ``mlflow_links``. A registry that
cannot be reached is retried at the next pass; several schedulers may write the same tags,
which is harmless.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from driftline.core.settings import Settings
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.mlflow_registry.source import load_mlflow

__all__ = ["PREFIX", "tags_for", "write_back"]

log = logging.getLogger(__name__)
PREFIX = "driftline."
MAX_TAG_CHARS = 5000  # MLflow's limit on a tag value


def tags_for(run: t.DetectionRun, public_url: str) -> dict[str, str]:
    drifted = ",".join(run.drifted_features or [])
    return {
        f"{PREFIX}drift_verdict": "drift" if run.dataset_drift else "no_drift",
        f"{PREFIX}run_id": str(run.id),
        f"{PREFIX}drift_share": f"{run.drift_share or 0.0:.4f}",
        f"{PREFIX}drifted_features": drifted[:MAX_TAG_CHARS],
        f"{PREFIX}window_end": run.window_end.isoformat(),
        f"{PREFIX}run_url": f"{public_url.rstrip('/')}/v1/runs/{run.id}",
    }


def _pending(session: Session) -> list[tuple[t.MlflowLink, t.DetectionRun]]:
    links = list(session.scalars(select(t.MlflowLink)))
    if not links:
        return []
    newest: dict[int, int] = {
        version_id: run_id
        for version_id, run_id in session.execute(
            select(t.DetectionRun.version_id, func.max(t.DetectionRun.id))
            .where(
                t.DetectionRun.status == "ok",
                t.DetectionRun.version_id.in_([link.version_id for link in links]),
            )
            .group_by(t.DetectionRun.version_id)
        ).tuples()
    }
    pending = []
    for link in links:
        run_id = newest.get(link.version_id)
        if run_id is not None and (link.last_written_run_id or 0) < run_id:
            run = session.get(t.DetectionRun, run_id)
            assert run is not None
            pending.append((link, run))
    return pending


def write_back(database: Database, settings: Settings, client_for: Any = None) -> int:
    """Write the newest run of each linked version that has one not yet written; returns how
    many versions were tagged. ``client_for(tracking_uri)`` makes the MLflow client."""
    with database.read() as session:
        pending = _pending(session)
        for link, run in pending:
            session.expunge(link)
            session.expunge(run)
    if not pending:
        return 0
    if client_for is None:
        mlflow = load_mlflow()

        def client_for(uri: str) -> Any:
            return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)

    public_url = settings.api.public_url or f"http://{settings.api.host}:{settings.api.port}"
    written = 0
    for link, run in pending:
        uri = settings.mlflow.tracking_uri or link.tracking_uri
        try:
            client = client_for(uri)
            for key, value in tags_for(run, public_url).items():
                client.set_model_version_tag(link.registered_model, link.mlflow_version, key, value)
        except Exception as exc:  # the registry may be down: the next pass tries again
            log.warning("MLflow write-back of run %d to %s failed: %r", run.id, uri, exc)
            continue
        with database.write() as session:
            stored = session.get(t.MlflowLink, link.version_id)
            if stored is not None:
                stored.last_written_run_id = max(stored.last_written_run_id or 0, run.id)
        written += 1
    return written
