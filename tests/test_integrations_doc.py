"""docs/integrations.md: its tested blocks run against a live `driftline up`, and every YAML
and Python block at least parses (the helpers themselves are tested with the real libraries
in their own test modules)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.docs import claimed_blocks
from tests.support.service import LiveService, start_service

ROOT = Path(__file__).parents[1]
DOC = (ROOT / "docs" / "integrations.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.S)


def _tested_blocks() -> list[str]:
    """The bash blocks whose marker names this module (others name their own tests)."""
    return claimed_blocks("docs/integrations.md", "tests/test_integrations_doc.py", "bash")


def test_one_section_per_system() -> None:
    sections = re.findall(r"^## (.+)$", DOC, flags=re.M)
    for system in (
        "Django",
        "TorchServe",
        "MLflow pyfunc models",
        "KServe",
        "Seldon Core",
        "TensorFlow Serving and gateways",
        "MLflow model registry",
        "Docker",
        "Kubernetes",
        "GitHub Actions",
    ):
        assert system in sections


def test_yaml_examples_are_valid_and_point_at_the_ingest_route() -> None:
    documents = [doc for block in _blocks("yaml") for doc in yaml.safe_load_all(block)]
    kinds = {doc["kind"]: doc for doc in documents}
    kserve = kinds["InferenceService"]["spec"]["predictor"]["logger"]
    seldon = kinds["SeldonDeployment"]["spec"]["predictors"][0]["graph"]["logger"]
    for logger in (kserve, seldon):
        assert logger["mode"] == "all"
        assert logger["url"].endswith("/v1/ingest/cloudevents")


def test_python_examples_parse() -> None:
    blocks = _blocks("python")
    assert len(blocks) >= 4
    for block in blocks:
        ast.parse(block)


@pytest.fixture
def live_service(tmp_path: Path) -> Iterator[LiveService]:
    service = start_service(tmp_path)
    try:
        yield service
    finally:
        service.stop()


def test_tested_blocks_run_as_written(live_service: LiveService) -> None:
    blocks = _tested_blocks()
    assert len(blocks) == 2, "the doc's tested blocks moved; update this test"
    env = os.environ | {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DRIFTLINE_API_KEY": live_service.api_key,
    }
    outputs = []
    for block in blocks:
        script = "set -euo pipefail\n" + block.replace(
            "localhost:8000", f"localhost:{live_service.port}"
        )
        run = subprocess.run(
            ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 0, run.stdout + run.stderr + live_service.output()
        outputs.append(run.stdout)
    kserve, gateway = outputs
    assert '"status":"pending"' in kserve and '"status":"stored","accepted":1' in kserve
    assert '"event_id":"0009174a-24a8-4603-b098-09c8799950e9"' in kserve
    assert '"sepal_length":6.8' in kserve and '"tags":{"component":"predictor"}' in kserve
    assert '"accepted":1' in gateway and '"rejected":0' in gateway
