"""The `driftline` command as a user runs it (subprocesses, both backends for `db`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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


def test_up_stops_its_parts_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    """As under Kubernetes or compose: SIGTERM stops the API, then the scheduler, then exit 0
    (uvicorn alone would raise the signal again and end the process at -15 before that)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    env["DRIFTLINE_API__PORT"] = str(port)
    up = subprocess.Popen(
        [DRIFTLINE, "up"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except OSError:
            assert up.poll() is None, up.communicate()[1]
            if time.monotonic() > deadline:
                up.kill()
                pytest.fail(f"the API never answered: {up.communicate()[1][-3000:]}")
            time.sleep(0.2)
    up.send_signal(signal.SIGTERM)
    _, stderr = up.communicate(timeout=60)
    assert up.returncode == 0, stderr[-3000:]
    assert "Scheduler has been shut down" in stderr  # the cleanup after the API ran
