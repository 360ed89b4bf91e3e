"""The demo's process tree: Driftline, the example model server and the retraining receiver,
each a child process with its output in a log file, all stopped together."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = ["Child", "ProcessTree", "free_port"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    url: str

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class ProcessTree:
    """Children started in ``directory``; :meth:`stop` ends them all (also on errors)."""

    directory: Path
    repository: Path
    children: list[Child] = field(default_factory=list)

    def start(
        self, name: str, args: list[str], port: int, env: dict[str, str], ready_path: str
    ) -> Child:
        environment = {**os.environ, **env}
        # The examples are imported from the repository (they are not part of the package).
        environment["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(self.repository), environment.get("PYTHONPATH")) if p
        )
        log = self.directory / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                args, cwd=self.directory, env=environment, stdout=out, stderr=subprocess.STDOUT
            )
        child = Child(name, process, log, f"http://127.0.0.1:{port}")
        self.children.append(child)
        self._wait_ready(child, ready_path)
        return child

    def python(self, module: str) -> list[str]:
        return [sys.executable, "-m", module]

    def _wait_ready(self, child: Child, path: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise RuntimeError(f"{child.name} exited early:\n{child.tail()}")
            try:
                if httpx.get(child.url + path, timeout=1.0).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{child.name} was not ready within {timeout:.0f} s:\n{child.tail()}")

    def alive(self) -> bool:
        return all(c.process.poll() is None for c in self.children)

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.terminate()
        for child in self.children:
            try:
                child.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.process.kill()
