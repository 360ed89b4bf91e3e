"""The README's curl walkthrough, run as written against a live `driftline up`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.service import LiveService, start_service

ROOT = Path(__file__).parents[1]


def _tested_blocks(language: str = "bash") -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(rf"<!-- tested:[^>]*-->\n```{language}\n(.*?)```", text, flags=re.S)


@pytest.fixture
def live_service(tmp_path: Path) -> Iterator[LiveService]:
    """`driftline up` on the embedded default, from an empty directory; it prints the admin key
    it creates, which a user exports as DRIFTLINE_API_KEY."""
    service = start_service(tmp_path, api_key=None)
    try:
        assert re.fullmatch(r"dl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", service.api_key), service.output()
        yield service
    finally:
        service.stop()
    assert (tmp_path / ".driftline" / "driftline.db").exists()


def _documents(text: str) -> list[dict[str, object]]:
    """The JSON documents in curl's output (curl adds no newline between them)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (start := text.find("{", at)) != -1:
        document, at = decoder.raw_decode(text, start)
        found.append(document)
    return found


def test_readme_walkthrough(live_service: LiveService, tmp_path: Path) -> None:
    blocks = _tested_blocks()
    assert len(blocks) == 2, "the README's tested blocks moved; update this test"
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    port = live_service.port
    env = os.environ | {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DRIFTLINE_API_KEY": live_service.api_key,  # `export DRIFTLINE_API_KEY=...` as told
    }
    outputs = []
    for block in blocks:
        script = "set -euo pipefail\n" + block.replace("localhost:8000", f"localhost:{port}")
        run = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        outputs.append(run.stdout)
    model, reference, ingest, page, run, drift = _documents(outputs[0])
    assert model["name"] == "fraud"
    assert reference["n_rows"] == 100_000
    assert (ingest["accepted"], ingest["rejected"]) == (10_000, 0)
    assert len(page["events"]) == 2
    assert run["status"] == "ok" and run["n_events"] == 10_000
    assert run["drifted_features"] == ["amount"] and run["dataset_drift"] is True
    # The scheduler inside `driftline up` may have added a run of its own meanwhile.
    assert run["id"] in [r["id"] for r in drift["history"]]
    bad = json.loads(outputs[1])
    assert (bad["accepted"], bad["rejected"], bad["type_violations"]) == (2, 1, 1)
    assert bad["errors"] == [
        {"index": 1, "event_id": None, "field": "event_id", "reason": "event_id: Field required"}
    ]
    # The SDK snippet, pasted into a script as a user would; interpreter exit flushes it.
    (snippet,) = _tested_blocks("python")
    run = subprocess.run(
        [sys.executable, "-c", snippet.replace("localhost:8000", f"localhost:{port}")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    newest = json.loads(
        subprocess.run(
            [
                "curl",
                "-sf",
                f"localhost:{port}/v1/models/fraud/events?limit=1",
                "-H",
                f"Authorization: Bearer {live_service.api_key}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )["events"][0]
    assert newest["features"] == {"amount": 12.5, "country": "DE", "is_new": False}
    assert (newest["prediction"], newest["label"]) == ("0", "1")
