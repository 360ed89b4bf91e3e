"""Reading a registered MLflow model version: its signature, its run and its training data.

The training data is the run's logged dataset (``mlflow.log_input(..., context="training")``;
MLflow stores only where it came from, so its source is loaded: a local path, an artifact, a
cloud URI MLflow can download) or, given ``reference_artifact``, a CSV / Parquet / JSON file
logged as an artifact of the run.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from driftline.core.errors import FieldProblem, InvalidInputError, NotFoundError

__all__ = ["MlflowVersion", "load_mlflow", "parse_model_uri", "read_version"]

TRAINING_CONTEXT = "training"


def load_mlflow() -> ModuleType:
    """``mlflow``, with its usage telemetry off: a monitoring service does not phone home on
    its users' behalf (MLflow reads these variables when it is imported)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    try:
        import mlflow
    except ImportError:
        raise InvalidInputError(
            "MLflow is not installed", [FieldProblem("mlflow", "pip install 'driftline[mlflow]'")]
        ) from None
    return mlflow


def parse_model_uri(uri: str) -> tuple[str, str]:
    """``models:/NAME/VERSION`` or ``models:/NAME@ALIAS`` as (name, version or @alias)."""
    rest = uri.removeprefix("models:/")
    if rest != uri:
        name, sep, version = rest.rpartition("/")
        if sep and name and version.isdigit():
            return name, version
        name, sep, alias = rest.partition("@")
        if sep and name and alias:
            return name, "@" + alias
    raise InvalidInputError(
        "not a registered model version URI",
        [
            FieldProblem(
                "model_uri", f"expected models:/NAME/VERSION or models:/NAME@ALIAS, got {uri!r}"
            )
        ],
    )


@dataclass(frozen=True)
class MlflowVersion:
    registered_model: str
    version: str
    run_id: str | None
    tracking_uri: str
    inputs: Any  # mlflow.types.Schema of the inputs, or None without a signature
    outputs: Any
    training: pd.DataFrame | None
    training_source: str | None


def _read_table(path: Path) -> pd.DataFrame:
    if path.is_dir():  # a dataset directory (Parquet parts): read what it holds
        return pd.read_parquet(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix in (".json", ".jsonl"):
        return pd.read_json(path, lines=suffix == ".jsonl")
    if suffix in (".csv", ".txt"):
        return pd.read_csv(path)
    raise InvalidInputError(
        "the training data is not CSV, Parquet or JSON",
        [FieldProblem("training_data", f"cannot read {path.name!r}")],
    )


def _training_input(client: Any, run_id: str) -> Any:
    inputs = client.get_run(run_id).inputs.dataset_inputs
    for item in inputs:
        if any(t.key == "mlflow.data.context" and t.value == TRAINING_CONTEXT for t in item.tags):
            return item.dataset
    return inputs[0].dataset if inputs else None


def _training(
    mlflow: ModuleType, client: Any, uri: str, run_id: str | None, artifact: str | None
) -> tuple[pd.DataFrame | None, str | None]:
    if run_id is None:
        return None, None
    if artifact is not None:
        target = tempfile.mkdtemp(prefix="driftline-mlflow-")
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=artifact, dst_path=target, tracking_uri=uri
        )
        return _read_table(Path(path)), f"artifact {artifact} of run {run_id}"
    dataset = _training_input(client, run_id)
    if dataset is None:
        return None, None
    try:
        local = mlflow.data.get_source(dataset).load()
    except Exception as exc:
        raise InvalidInputError(
            "the run's training dataset cannot be loaded",
            [FieldProblem("dataset", f"{dataset.name} from {json.loads(dataset.source)}: {exc}")],
        ) from None
    return _read_table(Path(str(local))), f"dataset {dataset.name!r} ({dataset.source})"


def read_version(
    model_uri: str, tracking_uri: str | None, reference_artifact: str | None
) -> MlflowVersion:
    """Everything the import needs from MLflow, read once."""
    mlflow = load_mlflow()
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
    uri = mlflow.get_tracking_uri()
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=mlflow.get_registry_uri())
    name, version = parse_model_uri(model_uri)
    try:
        if version.startswith("@"):
            found = client.get_model_version_by_alias(name, version[1:])
        else:
            found = client.get_model_version(name, version)
    except mlflow.exceptions.MlflowException as exc:
        raise NotFoundError(
            f"{model_uri} is not in the MLflow registry at {uri}: {exc.message}"
        ) from None
    info = mlflow.models.get_model_info(f"models:/{name}/{found.version}")
    signature = info.signature
    training, source = _training(mlflow, client, uri, found.run_id, reference_artifact)
    return MlflowVersion(
        registered_model=name,
        version=str(found.version),
        run_id=found.run_id,
        tracking_uri=uri,
        inputs=signature.inputs if signature else None,
        outputs=signature.outputs if signature else None,
        training=training,
        training_source=source,
    )
