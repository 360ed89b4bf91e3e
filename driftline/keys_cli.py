"""``driftline keys ...`` and the first admin key printed by ``driftline up`` / ``api``.

Whoever can run these commands can reach the database, which is the trust boundary anyway: the
CLI is how an operator gets back in after losing every admin key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from driftline.core.settings import Settings
    from driftline.core.storage import Database

__all__ = ["announce_bootstrap_key", "keys_app"]

keys_app = typer.Typer(help="API keys (shown once when created, stored hashed).")


def _database() -> Database:
    from driftline.core.settings import load_settings
    from driftline.core.storage import Database

    return Database(load_settings().database)


@keys_app.command("create")
def create(
    scope: Annotated[
        list[str], typer.Option("--scope", "-s", help="ingest, read or admin; repeatable")
    ],
    name: Annotated[str, typer.Option(help="What the key is for")] = "cli",
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Ingest keys: a model it may write; repeatable"),
    ] = None,
) -> None:
    """Create a key and print it (once: only its hash is stored)."""
    from pydantic import ValidationError

    from driftline.access.keystore import KeySpec, create_key

    try:
        spec = KeySpec.model_validate({"name": name, "scopes": scope, "models": model or None})
    except ValidationError as exc:
        messages = "; ".join(error["msg"] for error in exc.errors())
        typer.echo(f"error: {messages}", err=True)
        raise typer.Exit(2) from None
    database = _database()
    with database.write() as session:
        created = create_key(session, spec)
    database.dispose()
    typer.echo(f"created key {created.id} ({', '.join(created.scopes)}); store it now:", err=True)
    typer.echo(created.key)


@keys_app.command("list")
def list_() -> None:
    """List keys: id, prefix, scopes, models, last use, revoked."""
    from driftline.access.keystore import list_keys

    database = _database()
    with database.read() as session:
        keys = list_keys(session)
    database.dispose()
    for key in keys:
        models = ",".join(key.models) if key.models is not None else "*"
        used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        scopes = ",".join(key.scopes)
        typer.echo(f"{key.id}\tdl_{key.prefix}_…\t{scopes}\t{models}\t{used}\t{state}\t{key.name}")


@keys_app.command("revoke")
def revoke(key_id: Annotated[int, typer.Argument(help="id from `driftline keys list`")]) -> None:
    """Revoke a key: refused from the next request on, by every replica."""
    from driftline.access.keystore import revoke_key
    from driftline.core.errors import NotFoundError

    database = _database()
    try:
        with database.write() as session:
            revoke_key(session, key_id)
    except NotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        database.dispose()
    typer.echo(f"revoked key {key_id}")


@keys_app.command("generate")
def generate() -> None:
    """Print a fresh random key without storing it (for DRIFTLINE_BOOTSTRAP_ADMIN_KEY)."""
    from driftline.access.keys import generate as new_key

    typer.echo(new_key().plaintext)


def announce_bootstrap_key(settings: Settings, database: Database) -> None:
    """On a database with no key yet, create the first admin key; print it if we made it up."""
    from driftline.access.keystore import bootstrap_admin

    given = settings.bootstrap_admin_key
    try:
        with database.write() as session:
            created = bootstrap_admin(session, given.get_secret_value() if given else None)
    except ValueError as exc:
        typer.echo(f"error: DRIFTLINE_BOOTSTRAP_ADMIN_KEY: {exc}", err=True)
        raise typer.Exit(2) from None
    if created is None:
        return
    if given is not None:
        typer.echo(f"stored DRIFTLINE_BOOTSTRAP_ADMIN_KEY as admin key dl_{created.prefix}_…")
        return
    # The only time this key is ever shown; it goes to the terminal, not to a logger.
    typer.echo(
        "No API key existed, so an admin key was created. It is shown only now; store it and "
        "send it as 'Authorization: Bearer <key>':\n"
        f"DRIFTLINE_API_KEY={created.key}"
    )
