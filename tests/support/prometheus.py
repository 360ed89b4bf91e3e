"""A real Prometheus server for tests (Debian's ``prometheus`` package; `make test` installs it).

Started on a free loopback port with a throwaway data directory; queried through its HTTP API.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.postgres import free_port

__all__ = ["HOW_TO", "Prometheus", "promtool", "start_prometheus"]

HOW_TO = (
    "Prometheus is not installed: `make test` installs Debian's `prometheus` package "
    "(apt-get install -y --no-install-recommends prometheus), which provides promtool too"
)


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        raise RuntimeError(HOW_TO)
    return found


@dataclass
class Prometheus:
    process: subprocess.Popen[bytes]
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant query's result vector (a scalar comes back as one unlabelled sample)."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = response.json()
        if body.get("status") != "success":
            raise AssertionError(f"{expr}: {body.get('error', body)}")
        data = body["data"]
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        result: list[dict[str, Any]] = data["result"]
        return result

    def targets_up(self) -> dict[str, bool]:
        body = httpx.get(f"{self.url}/api/v1/targets", timeout=5).json()
        return {t["scrapePool"]: t["health"] == "up" for t in body["data"]["activeTargets"]}

    def rules(self) -> list[dict[str, Any]]:
        body = httpx.get(f"{self.url}/api/v1/rules", timeout=5).json()
        return [rule for group in body["data"]["groups"] for rule in group["rules"]]

    def log(self) -> str:
        return (self.directory / "prometheus.log").read_text()[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


def start_prometheus(directory: Path, config: str, timeout: float = 30) -> Prometheus:
    """Start Prometheus with ``config`` (YAML text) and wait until it is ready."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise RuntimeError(HOW_TO)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "prometheus.yml").write_text(config)
    port = free_port()
    with (directory / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={directory / 'prometheus.yml'}",
                f"--web.listen-address=127.0.0.1:{port}",
                f"--storage.tsdb.path={directory / 'data'}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Prometheus(process, port, directory)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/-/ready", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"prometheus was not ready in {timeout}s:\n{server.log()}")
