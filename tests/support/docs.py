"""Reading and running the code blocks of the README and docs/ (see tests/test_docs.py).

A block is claimed by a test through the marker on the line before it,
``<!-- tested: tests/test_x.py ... -->``; these helpers find the blocks a test claims, run a
bash block as a user would (against a live service in place of localhost:8000) and read the
JSON documents curl printed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "claimed_blocks", "json_documents", "run_bash", "user_env"]

ROOT = Path(__file__).parents[2]


def claimed_blocks(document: str, test_file: str, language: str) -> list[str]:
    """The ``language`` blocks of ``document`` (a path from the repository root) whose marker
    names ``test_file`` (e.g. ``tests/test_readme.py``), in document order."""
    text = (ROOT / document).read_text()
    marker = rf"<!-- tested: {re.escape(test_file)}\b[^>]*-->\n```{language}\n(.*?)^```"
    return re.findall(marker, text, flags=re.S | re.M)


def user_env(api_key: str, **extra: str) -> dict[str, str]:
    """The environment of a user who ran ``export DRIFTLINE_API_KEY=...`` with the venv's
    ``python`` and ``driftline`` first on PATH (and no other DRIFTLINE_* setting)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    env["DRIFTLINE_API_KEY"] = api_key
    return env | extra


def run_bash(block: str, port: int, cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    """Run ``block`` with ``set -euo pipefail`` against the service on ``port``; its stdout.

    Only ``localhost:8000`` is rewritten: everything else runs as written.
    """
    script = "set -euo pipefail\n" + block.replace("localhost:8000", f"localhost:{port}")
    run = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout[-3000:]}\n{run.stderr}"
    return run.stdout


def json_documents(text: str) -> list[Any]:
    """The JSON objects and arrays in curl's output, in order (curl adds no newline between
    them); other text between them is skipped."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while match := re.compile(r"[{\[]").search(text, at):
        try:
            document, at = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            at = match.start() + 1
            continue
        found.append(document)
    return found
