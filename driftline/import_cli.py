"""``driftline import ...``: bring models in from other systems (the MLflow registry)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["import_app"]

import_app = typer.Typer(help="Import models from other systems.", no_args_is_help=True)


@import_app.command("mlflow")
def mlflow(
    model_uri: Annotated[
        str, typer.Option("--model-uri", help="models:/NAME/VERSION or models:/NAME@ALIAS")
    ],
    name: Annotated[
        str | None, typer.Option(help="Driftline model name [default: the registered name]")
    ] = None,
    task: Annotated[
        str | None,
        typer.Option(
            help="binary_classification, multiclass_classification or regression "
            "[default: from the signature and the labels]"
        ),
    ] = None,
    key_feature: Annotated[
        list[str] | None, typer.Option("--key-feature", help="A key feature; repeatable")
    ] = None,
    label_column: Annotated[
        str | None,
        typer.Option(help="Label column of the training data [default: label, target or y]"),
    ] = None,
    reference_artifact: Annotated[
        str | None,
        typer.Option(
            help="Run artifact holding the training data (CSV, Parquet, JSON) "
            "[default: the run's training dataset]"
        ),
    ] = None,
    tracking_uri: Annotated[
        str | None, typer.Option(help="MLflow tracking URI [default: MLFLOW_TRACKING_URI]")
    ] = None,
) -> None:
    """Register an MLflow model version: its signature becomes the feature schema and the
    run's training data the version's reference. Needs the mlflow extra."""
    from driftline.core.errors import DriftlineError
    from driftline.core.modelspec import Task
    from driftline.core.settings import load_settings
    from driftline.core.storage import Database
    from driftline.mlflow_registry.importer import import_version
    from driftline.mlflow_registry.source import read_version

    settings = load_settings()
    database = Database(settings.database)
    try:
        found = read_version(model_uri, tracking_uri, reference_artifact)
        result = import_version(
            database,
            settings,
            found,
            name=name,
            task=Task(task) if task else None,
            key_features=key_feature or (),
            label_column=label_column,
        )
    except (DriftlineError, ValueError) as exc:
        problems = getattr(exc, "problems", ())
        typer.echo(f"error: {exc}", err=True)
        for problem in problems:
            typer.echo(f"  {problem.field}: {problem.reason}", err=True)
        raise typer.Exit(2) from None
    finally:
        database.dispose()
    action = "registered" if result.created_model else "updated"
    typer.echo(
        f"{action} model {result.model!r} version {result.version!r} ({result.task}, "
        f"{len(result.features)} features: {', '.join(result.features[:10])})"
    )
    if result.reference is None:
        typer.echo(
            "no training data found: upload a reference with POST .../reference, or "
            "pass --reference-artifact"
        )
    else:
        typer.echo(
            f"reference {result.reference.id}: {result.reference.n_rows} rows from "
            f"{result.training_source}"
            + (f", label column {result.label_column!r}" if result.label_column else "")
        )
