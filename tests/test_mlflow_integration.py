"""MLflow, with the real library and a real local tracking store on disk: the import
round-trip (`driftline import mlflow`), results written back as model version tags, and the
SDK's pyfunc wrapper. One tiny scikit-learn model is trained and registered per module."""

from __future__ import annotations

import json
import os
import re
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from driftline.cli import app
from driftline.core.errors import InvalidInputError
from driftline.core.settings import DatabaseSettings, Settings
from driftline.core.storage import Database, upgrade
from driftline.core.storage import tables as t
from driftline.mlflow_registry.schema import features_from_signature
from driftline.mlflow_registry.writeback import write_back
from driftline.registry.models import get_model
from driftline.registry.references import list_references
from tests.support.docs import claimed_blocks

THIS = "tests/test_mlflow_integration.py"
ENV = {
    # MLflow 3 keeps the on-disk file store behind this switch (its default is now SQLite,
    # whose first migration alone takes ~15 s here); both are local stores on disk.
    "MLFLOW_ALLOW_FILE_STORE": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
}


@dataclass(frozen=True)
class Store:
    uri: str
    training: pd.DataFrame


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(ENV)
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"file://{root}/mlruns"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    rng = np.random.default_rng(7)
    features = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 50.0, 200),
            "n_items": rng.integers(1, 6, 200),
            "is_new": rng.random(200) < 0.3,
        }
    )
    label = (features["amount"] > 100).astype("int64")
    training = features.assign(label=label)
    csv = root / "train.csv"
    training.to_csv(csv, index=False)
    model = LogisticRegression().fit(features, label)
    with mlflow.start_run():
        dataset = mlflow.data.from_pandas(training, source=str(csv), targets="label", name="train")
        mlflow.log_input(dataset, context="training")
        training.head(50).to_parquet(root / "train.parquet", index=False)
        mlflow.log_artifact(str(root / "train.parquet"), artifact_path="data")
        mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(features, model.predict(features)),
            registered_model_name="churn",
            serialization_format="cloudpickle",
            pip_requirements=["scikit-learn"],
        )
    yield Store(uri, training)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _import(database_url: str, *args: str) -> Any:
    env = {"DRIFTLINE_DATABASE__URL": database_url}
    return CliRunner().invoke(app, ["import", "mlflow", *args], env=env)


def test_import_round_trip(store: Store, database: Database, database_url: str) -> None:
    first = _import(
        database_url,
        "--model-uri",
        "models:/churn/1",
        "--tracking-uri",
        store.uri,
        "--key-feature",
        "amount",
    )
    assert first.exit_code == 0, first.output
    assert "registered model 'churn' version '1'" in first.output
    assert (
        "200 rows from dataset 'train'" in first.output and "label column 'label'" in first.output
    )
    with database.read() as session:
        model = get_model(session, "churn")
        references = list_references(session, "churn", "1")
        link = session.scalars(select(t.MlflowLink)).one()
        rules = session.scalars(select(t.AlertRule)).all()
    assert model.task == "binary_classification"
    assert [(f.name, f.type.value, f.key) for f in model.features] == [
        ("amount", "numeric", True),
        ("n_items", "numeric", False),
        ("is_new", "boolean", False),
    ]
    assert [v.version for v in model.versions] == ["1"]
    assert references[0].n_rows == 200 and references[0].columns == [
        "amount",
        "n_items",
        "is_new",
        "label",
    ]
    assert (link.registered_model, link.mlflow_version, link.tracking_uri) == (
        "churn",
        "1",
        store.uri,
    )
    assert rules, "an imported model is monitored with the default alert rules"
    # Again from the artifact: the version gets a new current reference.
    again = _import(
        database_url,
        "--model-uri",
        "models:/churn/1",
        "--tracking-uri",
        store.uri,
        "--reference-artifact",
        "data/train.parquet",
    )
    assert again.exit_code == 0, again.output
    assert "updated model 'churn'" in again.output
    with database.read() as session:
        assert [r.n_rows for r in list_references(session, "churn", "1")] == [50, 200]


def test_documented_import(store: Store, tmp_path: Path) -> None:
    """The commands of docs/integrations.md as written (their tracking URI is this store's),
    with the output the document shows under the first one."""
    from mlflow import MlflowClient

    MlflowClient(store.uri).set_registered_model_alias("churn", "champion", "1")
    (block,) = claimed_blocks("docs/integrations.md", THIS, "bash")
    env = {"DRIFTLINE_DATABASE__URL": f"sqlite:///{tmp_path}/driftline.db"}
    database = Database(DatabaseSettings(url=env["DRIFTLINE_DATABASE__URL"]))
    upgrade(database)
    database.dispose()
    outputs = []
    for line in block.splitlines():
        if line.startswith("export MLFLOW_TRACKING_URI="):
            env["MLFLOW_TRACKING_URI"] = store.uri  # in place of the example's
        elif line.startswith("driftline "):
            run = CliRunner().invoke(app, shlex.split(line, comments=True)[1:], env=env)
            assert run.exit_code == 0, run.output
            outputs.append(run.output)
        else:
            assert line.startswith("# "), f"unchecked line: {line}"
    shown = [line[2:] for line in block.splitlines() if line.startswith("# ")]
    printed = outputs[0].splitlines()
    assert len(printed) == len(shown)
    for expected, actual in zip(shown, printed, strict=True):
        assert re.fullmatch(re.escape(expected).replace(r"\.\.\.", ".*"), actual), actual
    assert "updated model 'churn'" in outputs[1] and "50 rows" in outputs[1]


def test_import_refuses_what_it_cannot_read(store: Store, database_url: str) -> None:
    missing = _import(database_url, "--model-uri", "models:/churn/9", "--tracking-uri", store.uri)
    assert missing.exit_code == 2 and "not in the MLflow registry" in missing.output
    bad_uri = _import(database_url, "--model-uri", "runs:/abc/model")
    assert bad_uri.exit_code == 2 and "models:/NAME/VERSION" in bad_uri.output
    from mlflow.models.signature import Schema
    from mlflow.types import ColSpec, TensorSpec

    schema = Schema([ColSpec("datetime", "when"), ColSpec("double", "my col")])
    with pytest.raises(InvalidInputError) as caught:
        features_from_signature(schema, set())
    assert [p.field for p in caught.value.problems] == ["when", "my col"]
    tensor = Schema([TensorSpec(np.dtype("float32"), (-1, 3))])
    assert [f.name for f in features_from_signature(tensor, {"f1"}) if f.key] == ["f1"]


def test_results_are_written_back_as_tags(
    store: Store, database: Database, database_url: str
) -> None:
    import mlflow

    assert (
        _import(
            database_url, "--model-uri", "models:/churn/1", "--tracking-uri", store.uri
        ).exit_code
        == 0
    )
    settings = Settings(database=DatabaseSettings(url=database_url))
    assert write_back(database, settings) == 0  # no run yet
    now = datetime.now(UTC)
    with database.write() as session:
        version = session.scalars(select(t.ModelVersion)).one()
        reference = session.scalars(select(t.ReferenceDataset)).one()
        run = t.DetectionRun(
            model_id=version.model_id,
            version_id=version.id,
            reference_id=reference.id,
            reference_hash=reference.content_hash,
            trigger="manual",
            path="raw",
            window_start=now - timedelta(hours=1),
            window_end=now,
            status="ok",
            n_events=500,
            drift_share=0.5,
            dataset_drift=True,
            drifted_features=["amount"],
            started_at=now,
            duration_s=0.1,
        )
        session.add(run)
        session.flush()
        run_id = run.id
    assert write_back(database, settings) == 1
    tags = mlflow.MlflowClient(tracking_uri=store.uri).get_model_version("churn", "1").tags
    assert tags["driftline.drift_verdict"] == "drift"
    assert tags["driftline.run_id"] == str(run_id)
    assert tags["driftline.drifted_features"] == "amount"
    assert tags["driftline.run_url"].endswith(f"/v1/runs/{run_id}")
    assert write_back(database, settings) == 0  # written once per run


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            events = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["events"]
            received.extend(events)
            payload = json.dumps(
                {
                    "accepted": len(events),
                    "duplicate": 0,
                    "rejected": 0,
                    "type_violations": 0,
                    "errors": [],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()


def test_pyfunc_wrapper_logs_what_predict_returns(
    store: Store, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = receiver
    rows = store.training.drop(columns="label").head(3)
    # The example of docs/integrations.md as written, on this store, logging to the receiver.
    (example,) = claimed_blocks("docs/integrations.md", THIS, "python")
    namespace: dict[str, Any] = {"frame": rows}
    exec(example.replace("http://driftline:8000", url), namespace)
    model, predictions = namespace["model"], namespace["labels"]
    assert namespace["event_ids"] == model.last_event_ids
    assert model.driftline_client.flush(5) == 0
    assert [e["event_id"] for e in received] == model.last_event_ids
    assert [e["prediction"] for e in received] == predictions.tolist()
    assert received[0]["features"] == {
        "amount": rows["amount"].iloc[0],
        "n_items": int(rows["n_items"].iloc[0]),
        "is_new": bool(rows["is_new"].iloc[0]),
    }
    assert (received[0]["model"], received[0]["model_version"]) == ("churn", "1")
    assert model.metadata.get_input_schema() is not None  # other attributes pass through
    model.driftline_client.close()


def test_store_fixture_is_on_disk(store: Store) -> None:
    assert Path(store.uri.removeprefix("file://")).is_dir()


def test_scheduler_writes_back_only_when_configured(database: Database, database_url: str) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler
    from prometheus_client import CollectorRegistry

    from detectors.service import SchedulerMetrics, _configure
    from driftline.core.integration_settings import MlflowSettings

    for enabled in (False, True):
        scheduler = BackgroundScheduler(timezone=UTC)
        settings = Settings(
            database=DatabaseSettings(url=database_url), mlflow=MlflowSettings(write_back=enabled)
        )
        _configure(scheduler, settings, database, SchedulerMetrics(CollectorRegistry()))
        assert (scheduler.get_job("mlflow-write-back") is not None) is enabled
