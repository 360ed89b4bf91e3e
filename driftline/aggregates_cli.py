"""``driftline aggregates ...``: the window aggregates' state, one maintenance pass, retention.

The scheduler does maintenance and retention on its own; these commands show progress (a
rebuild after a reference was replaced) and run a pass now, e.g. from a cron job or by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from driftline.core.settings import Settings

__all__ = ["aggregates_app"]

aggregates_app = typer.Typer(
    help="Window aggregates: rebuild progress, maintenance, retention.", no_args_is_help=True
)


def _settings() -> Settings:
    from driftline.core.settings import load_settings

    return load_settings()


@aggregates_app.command("status")
def status(
    model: Annotated[str, typer.Argument(help="Model name")],
    version: Annotated[str | None, typer.Option(help="Default: every version")] = None,
) -> None:
    """Per version: the reference the aggregates bin by, rebuild progress, buckets, events."""
    from sqlalchemy import select

    from driftline.aggregates.status import aggregate_status
    from driftline.core.storage import Database
    from driftline.core.storage import tables as t
    from driftline.registry.models import load_model_row

    database = Database(_settings().database)
    try:
        with database.read() as session:
            row = load_model_row(session, model)
            query = select(t.ModelVersion).where(t.ModelVersion.model_id == row.id)
            if version is not None:
                query = query.where(t.ModelVersion.version == version)
            for found in session.scalars(query.order_by(t.ModelVersion.id)):
                state = aggregate_status(session, row.name, found.version, found.id)
                progress = ""
                if state.rebuild is not None:
                    r = state.rebuild
                    progress = f" rebuild {r.done_events:,}/{r.total_events:,} ({r.progress:.0%})"
                typer.echo(
                    f"{state.model} {state.version}: {state.status}, reference "
                    f"{state.reference_id} (current {state.current_reference_id}),{progress} "
                    f"{state.buckets:,} buckets, {state.events:,} events"
                )
    finally:
        database.dispose()


@aggregates_app.command("maintain")
def maintain() -> None:
    """One pass now: switch to new references, rebuild, compact, pair labels, re-evaluate."""
    import os
    import socket

    from detectors.maintenance import maintain as run_pass
    from driftline.core.storage import Database

    settings = _settings()
    database = Database(settings.database)
    try:
        done = run_pass(database, settings.aggregates, f"{socket.gethostname()}:{os.getpid()}")
    finally:
        database.dispose()
    typer.echo(
        f"switched {len(done.switched)} version(s), rebuilt {done.rebuilt_events:,} events, "
        f"compacted {done.compacted:,} buckets, paired {done.paired:,} labels, "
        f"re-evaluated {len(done.reevaluated)} run(s)"
    )


@aggregates_app.command("expire")
def expire() -> None:
    """Apply the retention now: raw events and labels, then aggregate buckets."""
    from datetime import UTC, datetime

    from driftline.aggregates.retention import expire as run_expire
    from driftline.core.storage import Database

    settings = _settings()
    database = Database(settings.database)
    try:
        done = run_expire(
            database,
            datetime.now(UTC),
            settings.aggregates.raw_retention_days,
            settings.aggregates.aggregate_retention_days,
        )
    finally:
        database.dispose()
    typer.echo(f"deleted {done.events:,} events, {done.labels:,} labels, {done.buckets:,} buckets")
    if done.created_days or done.dropped_days:  # PostgreSQL: the raw events' day partitions
        typer.echo(
            f"partitions: created {len(done.created_days)} day(s), "
            f"dropped {len(done.dropped_days)} day(s)"
        )
