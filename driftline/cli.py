"""The ``driftline`` command. Each command imports only what it needs."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from driftline.aggregates_cli import aggregates_app
from driftline.import_cli import import_app
from driftline.keys_cli import announce_bootstrap_key, keys_app

if TYPE_CHECKING:  # annotations only: each command imports what it runs
    from prometheus_client import CollectorRegistry

    from collector.loop import Collector
    from driftline.core.settings import Settings
    from driftline.core.storage import Database

app = typer.Typer(
    help="Driftline: drift detection and monitoring for ML models.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(import_app, name="import")
app.add_typer(aggregates_app, name="aggregates")
dashboards_app = typer.Typer(help="Grafana dashboards built from code.", no_args_is_help=True)
app.add_typer(dashboards_app, name="dashboards")

Host = Annotated[str | None, typer.Option(help="Listen address [default: DRIFTLINE_API__HOST]")]
Port = Annotated[int | None, typer.Option(help="Listen port [default: DRIFTLINE_API__PORT]")]


def _settings(host: str | None = None, port: int | None = None) -> Settings:
    from driftline.core.settings import load_settings

    settings = load_settings()
    if host is not None:
        settings.api.host = host
    if port is not None:
        settings.api.port = port
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return settings


def _start_collector(
    settings: Settings, database: Database, registry: CollectorRegistry
) -> tuple[Collector, threading.Thread]:
    """Inside `driftline up`: the Kafka collector in a thread, when Kafka is configured."""
    from collector.run import build

    collector = build(settings, database, registry)
    thread = threading.Thread(target=collector.run, name="collector", daemon=True)
    thread.start()
    typer.echo(
        f"collector consuming {settings.kafka.topic} from {settings.kafka.bootstrap_servers}"
    )
    return collector, thread


def _serve(settings: Settings, all_in_one: bool) -> None:
    """The API; with ``all_in_one`` (`driftline up`) also migrations first and every
    background part in this process."""
    import uvicorn
    from prometheus_client import CollectorRegistry

    from driftline.api.app import create_app
    from driftline.api.serving import Server
    from driftline.core.errors import SchemaNotCurrentError
    from driftline.core.storage import Database, check_at_head, upgrade

    database = Database(settings.database)
    if all_in_one:
        upgrade(database)
    try:
        check_at_head(database)
    except SchemaNotCurrentError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    announce_bootstrap_key(settings, database)
    url = settings.api.public_url or f"http://{settings.api.host}:{settings.api.port}"
    typer.echo(
        f"Driftline API at {url} (docs: {url}/docs), "
        f"database {database.url.render_as_string(hide_password=True)}"
    )
    # Under `driftline up` the scheduler and the collector register their process metrics here
    # too, so the API's /metrics serves all of them on one port.
    registry = CollectorRegistry()
    server = Server(
        uvicorn.Config(
            create_app(settings, database, registry),
            host=settings.api.host,
            port=settings.api.port,
            log_level=settings.log_level.lower(),
        )
    )
    background = None
    scheduler = None
    if all_in_one:
        from detectors.service import start_background

        scheduler = start_background(settings, database, registry)
        if settings.kafka.bootstrap_servers:
            background = _start_collector(settings, database, registry)
    try:
        server.run()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        if background is not None:
            collector, thread = background
            collector.stop()  # finishes and commits the batch in hand, leaves the group
            thread.join(timeout=30)
        database.dispose()


@app.command()
def up(host: Host = None, port: Port = None) -> None:
    """Everything in one process on the configured database (embedded SQLite by default):
    the API, the detection scheduler, and the Kafka collector when
    DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS is set. Applies migrations first."""
    _serve(_settings(host, port), all_in_one=True)


@app.command()
def api(host: Host = None, port: Port = None) -> None:
    """The HTTP API alone; the schema must already be migrated (`driftline db upgrade`)."""
    _serve(_settings(host, port), all_in_one=False)


@app.command()
def collector() -> None:
    """The Kafka collector: consume events and store them.

    Needs DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS. SIGTERM finishes the batch in hand, commits it and
    leaves the consumer group."""
    from collector.run import run
    from driftline.core.errors import SchemaNotCurrentError

    try:
        run(_settings())
    except (ValueError, SchemaNotCurrentError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def scheduler() -> None:
    """The detection scheduler: runs each monitor on its interval (several may run at once;
    each window runs exactly once)."""
    from detectors.service import run
    from driftline.core.errors import SchemaNotCurrentError

    try:
        run(_settings())
    except SchemaNotCurrentError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from driftline.core.storage import Database, upgrade
    from driftline.core.storage.migrate import current_revision

    database = Database(_settings().database)
    upgrade(database, revision)
    typer.echo(f"database at revision {current_revision(database)}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="target, e.g. base")]) -> None:
    """Revert migrations down to REVISION ("base" drops every Driftline table)."""
    from driftline.core.storage import Database, downgrade
    from driftline.core.storage.migrate import current_revision

    database = Database(_settings().database)
    downgrade(database, revision)
    typer.echo(f"database at revision {current_revision(database) or 'base'}")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one this code knows."""
    from driftline.core.storage import Database
    from driftline.core.storage.migrate import current_revision, head_revision

    database = Database(_settings().database)
    typer.echo(f"current: {current_revision(database) or 'empty'}\nhead:    {head_revision()}")


@dashboards_app.command("build")
def dashboards_build(
    check: Annotated[
        bool, typer.Option("--check", help="Only fail when the committed JSON is stale.")
    ] = False,
    out: Annotated[Path, typer.Option(help="Where the JSON files go.")] = Path(
        "grafana/dashboards"
    ),
) -> None:
    """Write the dashboards (Python in dashboards/) as Grafana JSON, or check them."""
    from dashboards.build import check as check_files
    from dashboards.build import write

    if check:
        problems = check_files(out)
        for problem in problems:
            typer.echo(f"stale: {problem}", err=True)
        if problems:
            typer.echo("run `driftline dashboards build` and commit the result", err=True)
            raise typer.Exit(1)
        typer.echo(f"dashboards in {out} are current")
        return
    for path in write(out):
        typer.echo(f"wrote {path}")


@app.command()
def demo(
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="Leave everything running for exploring.")
    ] = False,
    directory: Annotated[
        Path, typer.Option(help="Where the demo keeps its database and logs (wiped first).")
    ] = Path(".driftline/demo"),
    summary_json: Annotated[
        Path | None, typer.Option(help="Also write the summary as JSON here.")
    ] = None,
) -> None:
    """The whole mission in a minute: traffic, drift, an alert and a signed webhook."""
    from rich.console import Console

    from driftline.demo import run_demo

    console = Console() if sys.stdout.isatty() else Console(width=120)  # logs: don't squeeze
    try:
        run_demo(
            directory.resolve(),
            keep_running=keep_running,
            summary_json=summary_json,
            console=console,
        )
    except KeyboardInterrupt:
        console.print("stopped")
    except RuntimeError as exc:
        console.print(f"[bold red]demo failed:[/] {exc}")
        raise typer.Exit(1) from exc


@app.command()
def version() -> None:
    """Print Driftline's version."""
    import driftline

    typer.echo(driftline.__version__)


def main() -> None:
    app()
