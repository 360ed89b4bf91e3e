"""A throwaway PostgreSQL server for the test suite: initdb + pg_ctl on a free loopback port.

Used when ``DRIFTLINE_TEST_DATABASE_URL`` is unset. Debian keeps initdb and pg_ctl off PATH, in
its versioned folder (/usr/lib/postgresql/<major>/bin).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

HOW_TO = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them with "
    "`sudo apt-get install -y postgresql` (`make test` does this), or point the tests at a "
    "running server with DRIFTLINE_TEST_DATABASE_URL=postgresql+psycopg://user@host:port/db."
)


def _bindir() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError(HOW_TO)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ThrowawayPostgres:
    directory: Path
    port: int
    bindir: Path
    run_as: str | None

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, database: str) -> str:
        """Create an empty database on this server; return its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        return self.url(database)

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:  # initdb refuses to run as root
            command = ["runuser", "-u", self.run_as, "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def pg_ctl(self, action: str, *extra: str) -> None:
        """``start``, ``stop`` (fast) or ``kill`` (immediate stop, for outage tests)."""
        data = str(self.directory / "data")
        if action == "start":
            options = (
                f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c full_page_writes=off -c synchronous_commit=off "
                "-c max_connections=200"
            )
            self._run(
                "pg_ctl",
                "-D",
                data,
                "-l",
                str(self.directory / "log"),
                "-w",
                "-o",
                options,
                "start",
                *extra,
            )
        else:
            mode = "immediate" if action == "kill" else "fast"
            self._run("pg_ctl", "-D", data, "-m", mode, "-w", "stop", *extra)


def start() -> ThrowawayPostgres:
    bindir = _bindir()
    directory = Path(tempfile.mkdtemp(prefix="driftline-pg-"))
    run_as = None
    if os.geteuid() == 0:
        run_as = "postgres"
        try:
            pwd.getpwnam(run_as)
        except KeyError:
            raise RuntimeError(f"running as root needs a 'postgres' user. {HOW_TO}") from None
        shutil.chown(directory, run_as)
    server = ThrowawayPostgres(directory, free_port(), bindir, run_as)
    server._run(
        "initdb",
        "-D",
        str(directory / "data"),
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-sync",
    )
    server.pg_ctl("start")
    return server


def stop(server: ThrowawayPostgres) -> None:
    try:
        server.pg_ctl("stop")
    finally:
        shutil.rmtree(server.directory, ignore_errors=True)
