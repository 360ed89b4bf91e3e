"""``/v1/webhooks`` on both backends: secrets shown once and stored encrypted, 422 for refused
URLs and bad fields, PATCH, rotation, test messages, the delivery history and redelivery."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from alerting.webhooks.dispatcher import dispatch_due
from alerting.webhooks.signing import verify
from driftline.api.app import create_app
from driftline.core.settings import Settings
from driftline.core.storage import Database
from driftline.core.storage.tables import WebhookEndpoint
from tests.support.keys import TEST_ADMIN_KEY, add_key, bearer
from tests.support.receiver import Answer, running_receiver
from tests.webhook_support import webhook_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Overrides conftest's: loopback receivers allowed, a fixed key (no key file written).
    return webhook_settings(database_url)


def _create(client: TestClient, url: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/webhooks", json={"url": url, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


REFUSED = [
    "http://127.0.0.1",
    "http://[::1]",
    "http://169.254.169.254",
    "http://10.0.0.1",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("url", REFUSED)
def test_internal_urls_are_refused_with_422_naming_the_url(
    database: Database, database_url: str, url: str
) -> None:
    strict = webhook_settings(database_url, allowed_hosts=[])
    add_key(database, "admin", plaintext=TEST_ADMIN_KEY)
    with TestClient(create_app(strict, database), headers=bearer(TEST_ADMIN_KEY)) as client:
        refused = client.post("/v1/webhooks", json={"url": url})
        assert refused.status_code == 422
        assert [p["field"] for p in refused.json()["problems"]] == ["url"]
        assert client.get("/v1/webhooks").json() == []


def test_allowlisted_internal_urls_are_accepted(client: TestClient) -> None:
    # The fixture's settings allow 127.0.0.1 only.
    assert _create(client, "http://127.0.0.1:9/hook")["url"] == "http://127.0.0.1:9/hook"
    assert client.post("/v1/webhooks", json={"url": "http://[::1]:9/"}).status_code == 422


def test_the_secret_is_shown_once_and_stored_encrypted(
    client: TestClient, database: Database
) -> None:
    created = _create(client, "http://127.0.0.1:9/", headers={"X-CI-Token": "ci-token-42"})
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["header_names"] == ["X-CI-Token"]
    assert created["name"] == "127.0.0.1" and created["payload_format"] == "driftline"
    assert created["events"] == ["firing", "resolved"] and created["models"] is None
    shown = [client.get(f"/v1/webhooks/{created['id']}").text, client.get("/v1/webhooks").text]
    for text in shown:
        assert secret not in text and "ci-token-42" not in text and "X-CI-Token" in text
    with database.read() as session:
        row = session.get(WebhookEndpoint, created["id"])
        assert row is not None and row.headers_encrypted is not None
        assert secret.encode() not in row.secret_encrypted
        assert b"ci-token-42" not in row.headers_encrypted


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"payload_format": "slack"}, ["body", "payload_format"]),
        ({"severities": ["urgent"]}, ["body", "severities", 0]),
        ({"events": ["exploded"]}, ["body", "events", 0]),
        ({"models": []}, ["body", "models"]),
        ({"headers": {"webhook-signature": "v1,x"}}, ["body", "headers"]),
        ({"headers": {"X-Bad": "a\r\nInjected: 1"}}, ["body", "headers"]),
    ],
)
def test_bad_fields_are_422_with_the_field_at_fault(
    client: TestClient, fields: dict[str, Any], location: list[Any]
) -> None:
    refused = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/", **fields})
    assert refused.status_code == 422
    assert location in [error["loc"] for error in refused.json()["detail"]]


def test_patch_rotate_delete_and_unknown_ids(client: TestClient) -> None:
    created = _create(client, "http://127.0.0.1:9/", models=["fraud"], severities=["critical"])
    path = f"/v1/webhooks/{created['id']}"
    changed = client.patch(
        path, json={"models": None, "payload_format": "alertmanager", "headers": {"A": "1"}}
    ).json()
    assert changed["models"] is None and changed["severities"] == ["critical"]
    assert changed["payload_format"] == "alertmanager" and changed["header_names"] == ["A"]
    assert client.patch(path, json={"url": "http://10.0.0.1/"}).status_code == 422
    disabled = client.patch(path, json={"enabled": False}).json()
    assert disabled["enabled"] is False and disabled["disabled_reason"]
    assert client.post(f"{path}/test").status_code == 409
    enabled = client.patch(path, json={"enabled": True}).json()
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None
    rotated = client.post(f"{path}/rotate-secret").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert client.delete(path).status_code == 204
    for response in (client.get(path), client.patch(path, json={}), client.delete(path)):
        assert response.status_code == 404


def test_the_api_needs_an_admin_key(client: TestClient) -> None:
    anonymous = TestClient(client.app)
    assert anonymous.get("/v1/webhooks").status_code == 401
    assert anonymous.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/"}).status_code == 401


def test_test_message_history_and_redelivery_with_the_same_id(
    client: TestClient, database: Database, settings: Settings
) -> None:
    with running_receiver([Answer(500), Answer(200), Answer(200)]) as receiver:
        created = _create(client, receiver.url, payload_format="alertmanager")
        path = f"/v1/webhooks/{created['id']}"
        queued = client.post(f"{path}/test")
        assert queued.status_code == 202
        message_id = queued.json()["message_id"]
        assert dispatch_due(database, settings) == 1  # 500
        [pending] = client.get(f"{path}/deliveries").json()
        assert pending["status"] == "pending" and pending["attempts"][0]["status_code"] == 500
        redelivered = client.post(f"{path}/deliveries/{pending['id']}/redeliver")
        assert redelivered.status_code == 202
        assert dispatch_due(database, settings) == 1  # 200, at once: a new schedule
        delivered = client.get(f"{path}/deliveries?status=delivered").json()
        assert [d["id"] for d in delivered] == [pending["id"]]
        client.post(f"{path}/deliveries/{pending['id']}/redeliver")  # replay a delivered one
        assert dispatch_due(database, settings) == 1
    assert receiver.ids() == [message_id] * 3
    for request in receiver.received:
        stamp = float(request.headers["webhook-timestamp"])
        verify(created["secret"], request.headers, request.body, now=stamp)
    body = receiver.received[0].body
    assert b'"version":"4"' in body and b'"fingerprint"' in body
    [history] = client.get(f"{path}/deliveries").json()
    assert history["status"] == "delivered" and history["message_id"] == message_id
    assert [a["status_code"] for a in history["attempts"]] == [500, 200, 200]
    assert all(a["latency_s"] >= 0 for a in history["attempts"])
    assert client.get(f"{path}/deliveries?status=failed").json() == []
    assert client.post(f"{path}/deliveries/999999/redeliver").status_code == 404
