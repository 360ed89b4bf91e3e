"""A run's HTML report for humans, rendered by Evidently on the run's window and reference.

Our own statistics (the run's feature results) are the source of truth; the report is for
clicking through from Grafana. It is rendered on first request, self-contained (Evidently's
standalone HTML embeds its JavaScript, so it opens without internet access) and kept.
"""

from __future__ import annotations

import io
import zlib
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import select

from driftline.core.errors import NotFoundError
from driftline.core.storage import Database
from driftline.core.storage import tables as t

__all__ = ["run_report"]


def _frames(database: Database, run_id: int) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    with database.read() as session:
        found = session.execute(
            select(t.DetectionRun, t.Model)
            .join(t.Model, t.Model.id == t.DetectionRun.model_id)
            .where(t.DetectionRun.id == run_id)
        ).first()
        if found is None:
            raise NotFoundError(f"run {run_id} does not exist")
        run, model = found
        kinds = {f["name"]: f["type"] for f in model.features}
        data = session.scalar(
            select(t.ReferenceDataset.data).where(t.ReferenceDataset.id == run.reference_id)
        )
        rows = session.scalars(
            select(t.PredictionEvent.features).where(
                t.PredictionEvent.version_id == run.version_id,
                t.PredictionEvent.event_time >= run.window_start,
                t.PredictionEvent.event_time < run.window_end,
            )
        ).all()
    assert data is not None
    reference = pd.read_parquet(io.BytesIO(data))
    columns = [name for name in kinds if name in reference.columns]
    current = pd.DataFrame.from_records(list(rows), columns=columns)
    return reference[columns], current, {name: kinds[name] for name in columns}


def _render(reference: pd.DataFrame, current: pd.DataFrame, kinds: dict[str, str]) -> str:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    numeric = [name for name, kind in kinds.items() if kind == "numeric"]
    categorical = [name for name, kind in kinds.items() if kind != "numeric"]
    for frame in (reference, current):
        for name in categorical:  # one representation on both sides
            frame[name] = frame[name].map(lambda v: None if pd.isna(v) else str(v).lower())
        for name in numeric:
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    html: str = snapshot.get_html_str(as_iframe=False)
    return html


def run_report(database: Database, run_id: int) -> str:
    """The run's report, rendered once and then served from storage."""
    with database.read() as session:
        cached = session.scalar(select(t.RunReport.html).where(t.RunReport.run_id == run_id))
    if cached is not None:
        return zlib.decompress(cached).decode()
    reference, current, kinds = _frames(database, run_id)
    if current.empty:
        raise NotFoundError(f"run {run_id} has no events in its window to report on")
    html = _render(reference, current, kinds)
    with database.write() as session:
        if session.get(t.RunReport, run_id) is None:  # a concurrent request may have stored it
            session.add(
                t.RunReport(
                    run_id=run_id,
                    html=zlib.compress(html.encode(), 6),
                    created_at=datetime.now(UTC),
                )
            )
    return html
