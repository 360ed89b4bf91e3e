"""The README's walkthrough, run as written against one live `driftline up` for the module:
the curl blocks, registering from Python, reading the results, the SDK snippet and the FastAPI
example (and the quickstart of sdk/README.md, which needs the same service)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.docs import ROOT, claimed_blocks, json_documents, run_bash, user_env
from tests.support.service import LiveService, start_service

THIS = "tests/test_readme.py"
README = (ROOT / "README.md").read_text()


def _blocks(language: str, count: int, document: str = "README.md") -> list[str]:
    blocks = claimed_blocks(document, THIS, language)
    assert len(blocks) == count, f"{document}'s {language} blocks for {THIS} moved; update it"
    return blocks


@pytest.fixture(scope="module")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """`driftline up` on the embedded default, from an empty directory; it prints the admin key
    it creates, which a user exports as DRIFTLINE_API_KEY."""
    directory = tmp_path_factory.mktemp("readme")
    service = start_service(directory, api_key=None)
    try:
        assert re.fullmatch(r"dl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", service.api_key), service.output()
        (directory / "examples").symlink_to(ROOT / "examples")
        yield service
    finally:
        service.stop()
    assert (directory / ".driftline" / "driftline.db").exists()


@pytest.fixture(scope="module")
def walkthrough(live_service: LiveService) -> list[str]:
    """The outputs of the two curl blocks of "Try it with curl", which the later sections of
    the README (and so the tests below) build on."""
    env = user_env(live_service.api_key)
    blocks = _blocks("bash", 3)[:2]
    return [run_bash(block, live_service.port, live_service.directory, env) for block in blocks]


def _python(service: LiveService, code: str, timeout: float = 60) -> str:
    """Run ``code`` as a user's script (a fresh interpreter, their environment); its stdout."""
    run = subprocess.run(
        [sys.executable, "-c", code.replace("localhost:8000", f"localhost:{service.port}")],
        cwd=service.directory,
        env=user_env(service.api_key),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def _get(service: LiveService, path: str, **params: Any) -> Any:
    answer = httpx.get(f"{service.url}{path}", params=params, headers=service.headers)
    answer.raise_for_status()
    return answer.json()


def test_curl_walkthrough(walkthrough: list[str]) -> None:
    model, reference, ingest, page, run, drift = json_documents(walkthrough[0])
    assert model["name"] == "fraud"
    assert reference["n_rows"] == 100_000
    assert (ingest["accepted"], ingest["rejected"]) == (10_000, 0)
    assert len(page["events"]) == 2
    assert run["status"] == "ok" and run["n_events"] == 10_000
    assert run["drifted_features"] == ["amount"] and run["dataset_drift"] is True
    # The scheduler inside `driftline up` may have added a run of its own meanwhile.
    assert run["id"] in [r["id"] for r in drift["history"]]
    bad = json.loads(walkthrough[1])
    assert (bad["accepted"], bad["rejected"], bad["type_violations"]) == (2, 1, 1)
    assert bad["errors"] == [
        {"index": 1, "event_id": None, "field": "event_id", "reason": "event_id: Field required"}
    ]


def test_register_and_upload_from_python(live_service: LiveService, walkthrough: list[str]) -> None:
    register = _blocks("python", 4)[0]
    assert _python(live_service, register).split() == ["2000"]
    churn = _get(live_service, "/v1/models/churn")
    assert [f["name"] for f in churn["features"]] == ["tenure_months", "plan"]
    (current,) = [r for r in _get(live_service, "/v1/models/churn/versions/1/references")]
    assert current["n_rows"] == 2000


def test_read_the_results(live_service: LiveService, walkthrough: list[str]) -> None:
    block = _blocks("bash", 3)[2]
    output = run_bash(
        block, live_service.port, live_service.directory, user_env(live_service.api_key)
    )
    run, alerts = json_documents(output.split("driftline_feature_drifted{")[0])
    assert run["model"] == "fraud" and run["dataset_drift"] is True
    by_feature = {f["feature"]: f for f in run["features"] if not f["is_prediction"]}
    assert by_feature["amount"]["method"] == "wasserstein" and by_feature["amount"]["drifted"]
    assert not by_feature["country"]["drifted"] and not by_feature["is_new"]["drifted"]
    assert isinstance(alerts, dict | list)
    # The gauge follows the latest completed run, which may be a scheduled one by now; curl
    # ends the alerts' JSON without a newline, so the first series follows it on its line.
    gauge = r'driftline_feature_drifted\{feature="amount",.*model="fraud".*\} [01]\.0$'
    assert re.search(gauge, output, re.M), output[-2000:]
    # The sample answer shown in the README names only fields a run really has.
    sample = re.search(r"A run \(`GET /v1/runs/\{id\}`\).*?```text\n(.*?)```", README, re.S)
    assert sample, "the sample run moved; update this test"
    fields = {*run, *run["features"][0], *run["performance"]}
    assert set(re.findall(r'"(\w+)":', sample.group(1))) <= fields
    report = (live_service.directory / "report.html").read_text()
    assert report.lstrip().lower().startswith("<!doctype html") and "amount" in report
    # The Python version prints the same latest run.
    printed = _python(live_service, _blocks("python", 4)[1]).splitlines()
    latest = _get(live_service, "/v1/models/fraud/drift", limit=1, drifted_only=True)["latest"]
    assert printed[0].split(" ", 1)[1] == f"{latest['dataset_drift']} {latest['drifted_features']}"
    assert any(
        line.startswith("amount wasserstein ") and line.endswith(" True") for line in printed
    )


def test_sdk_snippet(live_service: LiveService, walkthrough: list[str]) -> None:
    # Pasted into a script as a user would; interpreter exit flushes it.
    _python(live_service, _blocks("python", 4)[2])
    newest = _get(live_service, "/v1/models/fraud/events", limit=1)["events"][0]
    assert newest["features"] == {"amount": 12.5, "country": "DE", "is_new": False}
    assert (newest["prediction"], newest["label"]) == ("0", "1")


def test_fastapi_example(live_service: LiveService, walkthrough: list[str]) -> None:
    # The example is the server module; a client posts to it as uvicorn would route it.
    driver = textwrap.dedent(
        """
        import json

        from fastapi.testclient import TestClient

        request = {"amount": 1500.0, "country": "FR", "is_new": True}
        answer = TestClient(app).post("/predict", json=request).json()
        assert driftline_sdk.flush(10) == 0, driftline_sdk.stats()
        print(json.dumps(answer))
        """
    )
    answer = json.loads(_python(live_service, _blocks("python", 4)[3] + driver))
    assert answer["label"] == "1"
    events = _get(live_service, "/v1/models/fraud/events", limit=5)["events"]
    (logged,) = [e for e in events if e["event_id"] == answer["event_id"]]
    assert logged["features"] == {"amount": 1500.0, "country": "FR", "is_new": True}
    assert (logged["prediction"], logged["model_version"]) == ("1", "1")


def test_sdk_readme_quickstart(live_service: LiveService, walkthrough: list[str]) -> None:
    (quickstart,) = _blocks("python", 1, "sdk/README.md")
    _python(live_service, quickstart)
    newest = _get(live_service, "/v1/models/fraud/events", limit=1, version="3")["events"][0]
    assert newest["features"] == {"amount": 120.0, "country": "DE"}
    assert (newest["prediction"], newest["score"], newest["label"]) == ("1", 0.83, "0")
