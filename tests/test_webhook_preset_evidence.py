"""The evidence presets send, from the stored message alone (no database): bounded for a model
with a thousand drifted features, the test message, segment alerts' bare feature names, and a
message that cannot be read failing the attempt instead of sending garbage."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from alerting.webhooks.deliveries import probe_body
from alerting.webhooks.presets.base import PresetError
from alerting.webhooks.presets.registry import build_request
from driftline.core.storage.tables import WebhookEndpoint

MESSAGE_ID = "msg_0123456789abcdef0123456789abcdef"
GITHUB = {"system": "github_actions", "owner": "o", "repo": "r", "event_type": "drift"}
GITLAB = {"system": "gitlab_ci", "project": "1", "ref": "main", "parameters": None}
KUBEFLOW = {"system": "kubeflow", "pipeline_id": "p", "parameters": None}


def _stored(features: list[Any]) -> bytes:
    return json.dumps(
        {"status": "firing", "model": "m", "version": "1", "rule": "r", "severity": "warning",
         "run": None, "drifted_features": features, "links": None}
    ).encode()  # fmt: skip


def test_a_thousand_drifted_features_stay_within_githubs_limits() -> None:
    features = [
        {"feature": f"f{i:04d}_" + "x" * 122, "method": "wasserstein", "statistic": 0.5,
         "p_value": None, "effect_size": None, "threshold": 0.1, "psi": 0.3}
        for i in range(1000)
    ]  # fmt: skip
    request = build_request(GITHUB, {"token": "t"}, _stored(features), MESSAGE_ID)
    payload = json.loads(request.body)["client_payload"]
    assert len(payload) <= 10
    assert len(json.dumps(payload).encode()) < 64 * 1024  # GitHub refuses 64 KB or more
    assert payload["drifted_count"] == 1000
    kept = [f["feature"] for f in payload["drifted_features"]]
    assert 0 < len(kept) <= 50 and kept == [f["feature"] for f in features[: len(kept)]]
    variables = json.loads(
        build_request(GITLAB, {"token": "t"}, _stored(features), MESSAGE_ID).body
    )
    names = variables["variables"]["DRIFTLINE_DRIFTED_FEATURES"].split(",")
    assert names == kept


def test_segment_alerts_list_bare_feature_names() -> None:
    request = build_request(GITLAB, {"token": "t"}, _stored(["income", "age"]), MESSAGE_ID)
    variables = json.loads(request.body)["variables"]
    assert variables["DRIFTLINE_DRIFTED_FEATURES"] == "income,age"
    assert json.loads(variables["DRIFTLINE_FEATURES_JSON"])[1]["feature"] == "age"


def test_the_test_message_says_test_and_leaves_the_rest_empty() -> None:
    endpoint = WebhookEndpoint(id=7, name="retrain", payload_format="driftline")
    body = probe_body(endpoint, datetime(2026, 11, 21, tzinfo=UTC))
    parameters = json.loads(build_request(KUBEFLOW, {}, body, MESSAGE_ID).body)
    assert parameters["display_name"] == "Driftline test"
    values = parameters["runtime_config"]["parameters"]
    assert values["driftline_status"] == "test"
    assert values["driftline_webhook_id"] == MESSAGE_ID
    assert values["driftline_features_json"] == "[]"
    assert {values[k] for k in ("driftline_model", "driftline_run_id", "driftline_run_url")} == {""}


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]"])
def test_an_unreadable_stored_message_is_a_preset_error(body: bytes) -> None:
    with pytest.raises(PresetError, match="cannot be read"):
        build_request(GITHUB, {"token": "t"}, body, MESSAGE_ID)


def test_missing_credentials_are_a_preset_error_not_an_anonymous_call() -> None:
    with pytest.raises(PresetError, match="token"):
        build_request(GITHUB, {}, _stored([]), MESSAGE_ID)
