"""The run's HTML report: served, cached, self-contained, rendered by headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from driftline.core.storage import Database
from driftline.core.storage import tables as t
from tests.test_api_detection import _events, _setup

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _drifted_run(client: TestClient) -> dict[str, object]:
    _setup(client)
    client.post("/v1/events", json=_events(400, 2, True, datetime.now(UTC) - timedelta(minutes=5)))
    run: dict[str, object] = client.post("/v1/models/fraud/detect").json()
    assert set(run["drifted_features"]) == {"amount", "country"}  # type: ignore[arg-type]
    return run


def test_report_is_self_contained_and_cached(client: TestClient, database: Database) -> None:
    run = _drifted_run(client)
    response = client.get(f"/v1/runs/{run['id']}/report")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    # Nothing loaded from the network: no external scripts, styles, fonts or images.
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', html)
    assert not re.search(r"@import\s+(url\()?['\"]?(https?:)?//|url\((['\"])?(https?:)?//", html)
    assert "amount" in html and "country" in html
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(t.RunReport)) == 1
    assert client.get(f"/v1/runs/{run['id']}/report").text == html  # served from storage
    assert client.get("/v1/runs/999999/report").status_code == 404


def test_report_renders_in_headless_chromium_without_network(client: TestClient) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "Chromium is missing: `make test` installs it (apt-get install chromium)"
    run = _drifted_run(client)
    html = client.get(f"/v1/runs/{run['id']}/report").text
    with tempfile.TemporaryDirectory() as directory:
        page = Path(directory) / "report.html"
        page.write_text(html)
        dom = subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={directory}/profile",
                "--virtual-time-budget=15000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    # The page is drawn by its embedded JavaScript: rendered widgets exist only in the DOM.
    rendered = re.sub(r"<script.*?</script>", "", dom, flags=re.S)
    assert "Mui" in rendered, "the report's JavaScript did not render"
    for feature in ("amount", "country"):
        assert feature in rendered
