"""A real Driftline process (`driftline up`) for end-to-end tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.keys import TEST_ADMIN_KEY
from tests.support.postgres import free_port

DRIFTLINE = str(Path(sys.executable).parent / "driftline")


@dataclass
class LiveService:
    process: subprocess.Popen[str]
    port: int
    directory: Path
    api_key: str = TEST_ADMIN_KEY

    @property
    def headers(self) -> dict[str, str]:
        """Headers that authenticate as the service's admin key."""
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / f"driftline-{self.port}.log"

    def output(self) -> str:
        return self.log.read_text()[-6000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def start_service(
    directory: Path,
    port: int | None = None,
    database_url: str | None = None,
    timeout: float = 60,
    env: dict[str, str] | None = None,
    api_key: str | None = TEST_ADMIN_KEY,
) -> LiveService:
    """Start `driftline up` in ``directory`` and wait until /readyz answers 200.

    ``api_key`` becomes DRIFTLINE_BOOTSTRAP_ADMIN_KEY; with ``None`` the service makes one up
    and prints it, as for a user, and the service's ``api_key`` is read from that output.
    """
    port = port or free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    environment["DRIFTLINE_LOG_LEVEL"] = "WARNING"
    if api_key is not None:
        environment["DRIFTLINE_BOOTSTRAP_ADMIN_KEY"] = api_key
    if database_url:
        environment["DRIFTLINE_DATABASE__URL"] = database_url
    environment.update(env or {})
    log = (directory / f"driftline-{port}.log").open("w")
    # Output to a file: nobody reads a pipe during the test, and a full one blocks the service.
    process = subprocess.Popen(
        [DRIFTLINE, "up", "--port", str(port)],
        cwd=directory,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log.close()
    service = LiveService(process, port, directory)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"driftline up exited:\n{service.output()}")
        try:
            if httpx.get(f"{service.url}/readyz", timeout=1).status_code == 200:
                if api_key is None:
                    printed = re.search(r"DRIFTLINE_API_KEY=(dl_\S+)", service.output())
                    service.api_key = printed.group(1) if printed else "none printed"
                return service
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"driftline up was not ready in {timeout}s:\n{service.output()}")
