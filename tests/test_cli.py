"""The `driftline` command as a user runs it (subprocesses, both backends for `db`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import driftline
from driftline.core.storage import Database
from driftline.core.storage.migrate import head_revision

DRIFTLINE = str(Path(sys.executable).parent / "driftline")


def _run(
    *args: str, url: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    if url:
        env["DRIFTLINE_DATABASE__URL"] = url
    return subprocess.run(
        [DRIFTLINE, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def test_version() -> None:
    assert _run("version").stdout.strip() == driftline.__version__


def test_db_downgrade_upgrade_current(database: Database, database_url: str) -> None:
    down = _run("db", "downgrade", "base", url=database_url)
    assert down.returncode == 0, down.stderr
    assert "revision base" in down.stdout
    refused = _run("api", "--port", "1", url=database_url)
    assert refused.returncode == 2
    assert "is empty" in refused.stderr and "run `driftline db upgrade`" in refused.stderr
    up = _run("db", "upgrade", url=database_url)
    assert up.returncode == 0, up.stderr
    assert f"revision {head_revision()}" in up.stdout
    assert f"current: {head_revision()}" in _run("db", "current", url=database_url).stdout


def test_default_database_is_created_under_dot_driftline(tmp_path: Path) -> None:
    assert _run("db", "upgrade", cwd=tmp_path).returncode == 0
    assert (tmp_path / ".driftline" / "driftline.db").is_file()


def test_help_lists_the_commands() -> None:
    out = _run("--help").stdout
    for command in ("up", "api", "db", "version"):
        assert command in out
