"""Builders for alerting tests: a model with its default rules, stored runs, an endpoint."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from alerting.rules import create_default_rules
from driftline.core.storage import Database
from driftline.core.storage import tables as t

__all__ = ["T0", "add_endpoint", "add_model", "add_run", "deliveries"]

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
_counter = itertools.count()


def add_model(database: Database, name: str = "churn", key: bool = False) -> int:
    with database.write() as session:
        model = t.Model(
            name=name,
            task="binary_classification",
            features=[
                {"name": "a", "type": "numeric", "key": key},
                {"name": "b", "type": "numeric"},
            ],
            prediction_type="categorical",
            label_type="categorical",
            created_at=T0,
            updated_at=T0,
        )
        session.add(model)
        session.flush()
        version = t.ModelVersion(model_id=model.id, version="v1", created_at=T0)
        session.add(version)
        session.flush()
        session.add(
            t.ReferenceDataset(
                version_id=version.id,
                content_hash="sha256:" + "0" * 64,
                source_format="csv",
                n_rows=1000,
                columns=["a", "b"],
                data=b"",
                created_at=T0,
            )
        )
        create_default_rules(session, model.id, "binary_classification", T0)
        return model.id


def add_run(database: Database, model_id: int, drifted: bool, at: datetime) -> int:
    """A stored run whose feature ``a`` drifted (or not), as the detectors would store it."""
    with database.write() as session:
        version_id = session.scalar(
            select(func.min(t.ModelVersion.id)).where(t.ModelVersion.model_id == model_id)
        )
        reference_id = session.scalar(
            select(func.min(t.ReferenceDataset.id)).where(
                t.ReferenceDataset.version_id == version_id
            )
        )
        run = t.DetectionRun(
            model_id=model_id,
            version_id=version_id,
            reference_id=reference_id,
            reference_hash="sha256:" + "0" * 64,
            trigger="schedule",
            schedule_key=f"test-{next(_counter)}",
            path="raw",
            window_start=at - timedelta(hours=1),
            window_end=at,
            status="ok",
            n_events=1000,
            drift_share=0.5 if drifted else 0.0,
            dataset_drift=drifted,
            drifted_features=["a"] if drifted else [],
            error=None,
            started_at=at,
            duration_s=0.1,
        )
        session.add(run)
        session.flush()
        for name in ("a", "b"):
            hit = drifted and name == "a"
            session.add(
                t.FeatureResultRow(
                    run_id=run.id,
                    feature=name,
                    segment=None,
                    is_prediction=False,
                    kind="numeric",
                    status="ok",
                    method="wasserstein",
                    statistic=0.4 if hit else 0.01,
                    p_value=None,
                    p_value_adjusted=None,
                    effect_size=None,
                    threshold=0.1,
                    drifted=hit,
                    psi=0.5 if hit else 0.01,
                    psi_level="alert" if hit else "ok",
                    reference_size=1000,
                    current_size=1000,
                    missing_rate=0.0,
                    reference_missing_rate=0.0,
                    type_violation_rate=0.0,
                    out_of_range_share=0.0,
                    unseen_share=None,
                    unseen_examples=None,
                )
            )
        return run.id


def add_endpoint(
    database: Database,
    *,
    fmt: str = "driftline",
    min_retrain_interval_s: float = 0.0,
    models: list[str] | None = None,
) -> int:
    with database.write() as session:
        endpoint = t.WebhookEndpoint(
            name="retrain",
            url="http://127.0.0.1:9/hook",
            models=models,
            severities=None,
            events=["firing", "resolved"],
            payload_format=fmt,
            secret_encrypted=b"unused here",
            headers_encrypted=None,
            enabled=True,
            disabled_reason=None,
            min_retrain_interval_s=min_retrain_interval_s,
            consecutive_failures=0,
            created_at=T0,
            updated_at=T0,
        )
        session.add(endpoint)
        session.flush()
        return endpoint.id


def deliveries(database: Database) -> list[tuple[str | None, str, str]]:
    """(group key, event, status) of every delivery, oldest first."""
    with database.read() as session:
        rows = session.execute(
            select(
                t.WebhookDelivery.group_key, t.WebhookDelivery.event, t.WebhookDelivery.status
            ).order_by(t.WebhookDelivery.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]
