"""docs/integrations.md, "Retraining triggers": each system's example endpoint is created
through the API (both backends) against a loopback receiver, and the request it sends for the
alert of docs/webhooks.md must be the documented one exactly: method, path and query, every
header (the signature verified, the documented one too) and the body. The receiving side
(workflow, pipeline, Jenkinsfile, DAG, template) must use only parameters that are sent."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from fastapi.testclient import TestClient

import driftline
from alerting.webhooks.dispatcher import dispatch_due
from alerting.webhooks.presets.evidence import PARAMETER_NAMES
from alerting.webhooks.presets.registry import SYSTEMS
from driftline.core.settings import Settings
from driftline.core.storage import Database
from tests.support.receiver import running_receiver
from tests.webhook_support import hmac_ok, queue, webhook_settings

ROOT = Path(__file__).parents[1]
SECTION = (ROOT / "docs" / "integrations.md").read_text().split("\n## Retraining triggers\n")[1]
SECTION = SECTION.split("\n## ")[0]
MARKED = re.compile(
    r"<!-- tested: tests/test_webhook_presets_doc\.py[^>]*-->\n```(\w+)\n(.*?)^```", re.S | re.M
)
# The alert every example shows: the driftline payload documented in docs/webhooks.md.
WEBHOOKS_DOC = (ROOT / "docs" / "webhooks.md").read_text()
_PAYLOADS = WEBHOOKS_DOC.split("**`driftline`** (default)")[1]
STORED = json.loads(_PAYLOADS.split("```json\n")[1].split("```")[0])
EXAMPLE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass(frozen=True)
class Http:
    method: str
    target: str
    headers: dict[str, str]  # lower-case names
    body: str


@dataclass(frozen=True)
class Example:
    spec: dict[str, Any]
    http: Http
    receiver: tuple[str, str]  # language, code


def _http(text: str) -> Http:
    head, body = text.split("\n\n", 1)
    request_line, *lines = head.splitlines()
    method, target, version = request_line.split(" ")
    assert version == "HTTP/1.1"
    headers = dict(line.split(": ", 1) for line in lines)
    return Http(method, target, {k.lower(): v for k, v in headers.items()}, body.rstrip("\n"))


def _examples() -> dict[str, Example]:
    found = {}
    for part in re.split(r"^### ", SECTION, flags=re.M)[1:]:
        blocks = MARKED.findall(part)
        assert [lang for lang, _ in blocks][:2] == ["json", "http"] and len(blocks) == 3, part[:60]
        spec = json.loads(blocks[0][1])
        found[spec["preset"]["system"]] = Example(spec, _http(blocks[1][1]), blocks[2])
    return found


EXAMPLES = _examples()


def test_one_example_per_preset_and_every_block_marked() -> None:
    assert sorted(EXAMPLES) == sorted(SYSTEMS)
    assert SECTION.count("\n```") // 2 == len(MARKED.findall(SECTION)) == 3 * len(SYSTEMS)


def test_the_parameter_table_names_every_parameter() -> None:
    table = SECTION.split("| parameter | value |")[1].split("\n\n")[0]
    documented = set(re.findall(r"`(\w+)`", table))
    assert documented >= set(PARAMETER_NAMES)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return webhook_settings(database_url)


def _hex16(message_id: str) -> str:
    return message_id.removeprefix("msg_")[:16]


@pytest.mark.parametrize("system", sorted(EXAMPLES))
def test_the_documented_request_is_the_one_sent(
    client: TestClient, database: Database, settings: Settings, system: str
) -> None:
    example = EXAMPLES[system]
    doc = example.http
    documented_url = urlsplit(example.spec["url"])
    timestamp = int(doc.headers["webhook-timestamp"])
    with running_receiver() as receiver:
        spec = {**example.spec, "url": receiver.base_url + documented_url.path}
        created = client.post("/v1/webhooks", json=spec)
        assert created.status_code == 201, created.text
        now = datetime.fromtimestamp(timestamp, UTC)
        message_id = queue(database, created.json()["id"], now, json.dumps(STORED).encode())
        assert dispatch_due(database, settings, now=now) == 1
    [sent] = receiver.received
    doc_id = doc.headers["webhook-id"]

    def same_id(text: str) -> str:
        # The only value that differs from run to run: the message id, and what derives from it.
        return text.replace(message_id, doc_id).replace(_hex16(message_id), _hex16(doc_id))

    assert (sent.method, same_id(sent.path)) == (doc.method, doc.target)
    assert doc.headers["host"] == documented_url.hostname
    got = {k: same_id(v) for k, v in sent.headers.items() if k not in ("host", "content-length")}
    expected = {k: v for k, v in doc.headers.items() if k != "host"}
    assert sorted(got) == sorted(expected)
    assert got["user-agent"] == f"Driftline-Webhooks/{driftline.__version__}"
    assert expected["user-agent"].startswith("Driftline-Webhooks/")
    for name in set(got) - {"user-agent", "webhook-signature"}:
        assert got[name] == expected[name], name
    assert hmac_ok(created.json()["secret"], sent.headers, sent.body)
    body = same_id(sent.body.decode())
    # The documented signature signs exactly these bytes with the example secret.
    assert hmac_ok(EXAMPLE_SECRET, doc.headers, body.encode())
    if doc.headers["content-type"] == "application/json":
        assert json.loads(doc.body) == json.loads(body)
    else:  # the form body, broken after each "&" in the doc
        assert "".join(doc.body.splitlines()) == body


def _sent(system: str) -> dict[str, Any]:
    """What the documented request hands the job: its parameters or evidence object."""
    doc = EXAMPLES[system].http
    if system == "jenkins":
        return dict(parse_qsl("".join(doc.body.splitlines()), keep_blank_values=True))
    body: dict[str, Any] = json.loads(doc.body)
    if system == "argo_workflows":
        return dict(p.split("=", 1) for p in body["submitOptions"]["parameters"])
    key = {"github_actions": "client_payload", "gitlab_ci": "variables", "airflow": "conf"}
    if system == "kubeflow":
        return dict(body["runtime_config"]["parameters"])
    return dict(body[key[system]])


def _resolve(data: Any, path: list[str]) -> Any:
    for key in path:
        data = data[key]  # a KeyError names a path the job reads but Driftline does not send
    return data


def test_the_github_workflow_reads_what_is_sent() -> None:
    example = EXAMPLES["github_actions"]
    workflow = yaml.safe_load(example.receiver[1])
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["repository_dispatch"]["types"] == [example.spec["preset"]["event_type"]]
    paths = re.findall(r"github\.event\.client_payload\.([\w.]+)", example.receiver[1])
    assert len(paths) >= 4
    for path in paths:
        _resolve(_sent("github_actions"), path.split("."))


def test_the_gitlab_job_reads_what_is_sent() -> None:
    code = EXAMPLES["gitlab_ci"].receiver[1]
    yaml.safe_load(code)
    assert '$CI_PIPELINE_SOURCE == "trigger"' in code
    used = set(re.findall(r"\$(DRIFTLINE_\w+)", code))
    assert used and used <= set(_sent("gitlab_ci"))


def test_the_jenkinsfile_declares_what_is_sent() -> None:
    code = EXAMPLES["jenkins"].receiver[1]
    declared = re.findall(r"string\(name: '(\w+)'", code)
    assert sorted(declared) == sorted(_sent("jenkins"))
    assert set(re.findall(r"(?:params\.|\$)(DRIFTLINE_\w+)", code)) <= set(declared)


def _decorated(tree: ast.Module, decorator: str) -> ast.FunctionDef:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for item in node.decorator_list:
                target = item.func if isinstance(item, ast.Call) else item
                if ast.unparse(target) == decorator:
                    return node
    raise AssertionError(f"no function decorated with {decorator}")


def test_the_airflow_dag_reads_what_is_sent() -> None:
    example = EXAMPLES["airflow"]
    tree = ast.parse(example.receiver[1])
    assert _decorated(tree, "dag").name == example.spec["preset"]["dag_id"]
    reads = 0
    for node in ast.walk(tree):
        path: list[str] = []
        while isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            path.insert(0, str(node.slice.value))
            node = node.value
        if path and isinstance(node, ast.Name) and node.id == "conf":
            _resolve(_sent("airflow"), path)
            reads += 1
    assert reads >= 4


def test_the_kubeflow_pipeline_declares_what_is_sent() -> None:
    pipeline = _decorated(ast.parse(EXAMPLES["kubeflow"].receiver[1]), "dsl.pipeline")
    assert sorted(a.arg for a in pipeline.args.args) == sorted(_sent("kubeflow"))


def test_the_argo_template_declares_what_is_sent() -> None:
    example = EXAMPLES["argo_workflows"]
    template = yaml.safe_load(example.receiver[1])
    preset = example.spec["preset"]
    assert template["kind"] == "WorkflowTemplate"
    assert template["metadata"] == {"name": preset["template"], "namespace": preset["namespace"]}
    declared = [p["name"] for p in template["spec"]["arguments"]["parameters"]]
    assert sorted(declared) == sorted(_sent("argo_workflows"))
    used = set(re.findall(r"\{\{workflow\.parameters\.(\w+)\}\}", example.receiver[1]))
    assert used and used <= set(declared)
