"""What the demo does, step by step, against the running processes (plain HTTP, as a user).

Traffic goes through the example model server, which logs with the SDK; windows are explicit
(``window_start``/``window_end``) so the run over the shifted traffic contains only it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

__all__ = ["Phase", "Scenario", "WebhookSeen"]

BATCH = 250


@dataclass
class Phase:
    name: str
    started: datetime
    ended: datetime
    event_ids: list[str] = field(default_factory=list)
    labels_true: list[int] = field(default_factory=list)


@dataclass
class WebhookSeen:
    payload: dict[str, Any]
    latency_s: float  # from the alert firing to the receiver logging the message


@dataclass
class Scenario:
    driftline: httpx.Client  # authenticated as admin
    model_server: str
    model: str
    progress: Callable[[str], None]

    def register(self, schema: dict[str, Any]) -> None:
        self._ok(self.driftline.post("/v1/models", json=schema))
        reference = httpx.get(f"{self.model_server}/training-data.csv", timeout=60).text
        self._ok(
            self.driftline.post(
                f"/v1/models/{self.model}/versions/1/reference",
                files={"file": ("training.csv", reference.encode(), "text/csv")},
            )
        )
        monitor = {"window": "PT10M", "interval": "PT1M", "min_events": 100}
        self._ok(self.driftline.put(f"/v1/models/{self.model}/versions/1/monitor", json=monitor))

    def send(self, name: str, rows: list[dict[Any, Any]], truth: list[int]) -> Phase:
        """Serve ``rows`` through the model server; wait until the SDK delivered them."""
        phase = Phase(name, datetime.now(UTC), datetime.now(UTC), labels_true=truth)
        for start in range(0, len(rows), BATCH):
            answer = httpx.post(
                f"{self.model_server}/predict",
                json={"applicants": rows[start : start + BATCH]},
                timeout=30,
            )
            answer.raise_for_status()
            phase.event_ids.extend(answer.json()["event_ids"])
            self.progress(f"{name}: {len(phase.event_ids):,} of {len(rows):,} predictions")
        pending = httpx.post(f"{self.model_server}/flush", timeout=30).json()["pending"]
        if pending:
            raise RuntimeError(f"the SDK still holds {pending} events after flushing")
        self._wait_stored(len(phase.event_ids), phase)
        phase.ended = datetime.now(UTC)
        return phase

    def _wait_stored(self, expected: int, phase: Phase, timeout: float = 60) -> None:
        """Through Kafka, events reach the database a little after the SDK sent them: page
        through the newest events until every id of the phase is there."""
        wanted = set(phase.event_ids)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found, before = 0, None
            while True:
                params: dict[str, Any] = {"limit": 1000}
                if before is not None:
                    params["before"] = before
                path = f"/v1/models/{self.model}/events"
                page = self._ok(self.driftline.get(path, params=params))
                found += sum(1 for e in page["events"] if e["event_id"] in wanted)
                before = page.get("next_cursor")
                if found >= expected or before is None:
                    break
            if found >= expected:
                return
            time.sleep(0.5)
        raise RuntimeError(f"{expected} events were sent but not all were stored in {timeout} s")

    def detect(self, phase: Phase) -> dict[str, Any]:
        body = {"window_start": phase.started.isoformat(), "window_end": phase.ended.isoformat()}
        return self._ok(self.driftline.post(f"/v1/models/{self.model}/detect", json=body))

    def label(self, phase: Phase) -> None:
        labels = [
            {"event_id": event_id, "model": self.model, "label": str(truth)}
            for event_id, truth in zip(phase.event_ids, phase.labels_true, strict=True)
        ]
        for start in range(0, len(labels), 1000):
            batch = {"labels": labels[start : start + 1000]}
            self._ok(self.driftline.post("/v1/labels", json=batch))

    def wait_alert(self, rule: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            firing = self.driftline.get(
                "/v1/alerts", params={"model": self.model, "state": "firing"}
            ).json()
            found = [a for a in firing if a["rule"] == rule]
            if found:
                return dict(found[0])
            time.sleep(0.5)
        raise RuntimeError(f"the {rule} alert did not fire within {timeout} s")

    def wait_webhook(self, log: Path, fired_at: datetime, timeout: float = 30) -> WebhookSeen:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if log.exists():
                for line in log.read_text().splitlines():
                    record = json.loads(line)
                    if record["payload"].get("status") == "firing":
                        latency = record["received_at"] - fired_at.timestamp()
                        return WebhookSeen(record["payload"], latency)
            time.sleep(0.3)
        raise RuntimeError(f"no verified webhook reached the receiver within {timeout} s")

    @staticmethod
    def _ok(response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            raise RuntimeError(
                f"{response.request.method} {response.request.url.path}: "
                f"{response.status_code} {response.text[:500]}"
            )
        body: dict[str, Any] = response.json() if response.content else {}
        return body
