"""Secrets (API keys and their hashes, webhook secrets and headers, database passwords) never
appear in responses, logs or metrics, apart from the one answer that creates them."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from driftline.api.app import create_app
from driftline.core.settings import DatabaseSettings
from driftline.core.storage import Database
from driftline.core.storage.tables import ApiKey
from tests.helpers import FRAUD_MODEL, prediction
from tests.support.keys import TEST_ADMIN_KEY, add_key, bearer
from tests.webhook_support import webhook_settings

PASSWORD = "pw-9f3a-not-in-any-answer"


def test_keys_and_webhook_secrets_stay_out_of_answers_logs_and_metrics(
    database: Database, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # statements and parameters
    settings = webhook_settings(database_url)
    add_key(database, "admin", plaintext=TEST_ADMIN_KEY)
    answers: list[str] = []
    try:
        with TestClient(create_app(settings, database), headers=bearer(TEST_ADMIN_KEY)) as client:
            created = client.post("/v1/keys", json={"name": "srv", "scopes": ["ingest", "read"]})
            key = created.json()["key"]
            hook = client.post(
                "/v1/webhooks",
                json={"url": "http://127.0.0.1:9/hook", "headers": {"X-Token": "hdr-s3cret-77"}},
            )
            assert hook.status_code == 201, hook.text
            secret = hook.json()["secret"]
            assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201
            auth = bearer(key)
            for answer in (
                client.post("/v1/events", json=[prediction()], headers=auth),
                client.get("/v1/models", headers=auth),
                client.get("/v1/keys"),
                client.get("/v1/webhooks"),
                client.get(f"/v1/webhooks/{hook.json()['id']}"),
                client.get("/metrics"),
                client.get("/v1/models", headers=bearer(key + "x")),  # a failed attempt
                client.delete(f"/v1/keys/{created.json()['id']}"),
                client.get("/v1/models", headers=auth),  # revoked
            ):
                assert answer.status_code < 500
                answers.append(answer.text)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    with database.read() as session:
        stored_hash = session.scalar(select(ApiKey.key_hash).where(ApiKey.prefix == key[3:15]))
    assert stored_hash
    logs = caplog.text
    assert "INSERT INTO api_keys" in logs  # the statements were logged: the check means something
    for secret_text in (key, key[16:], stored_hash, secret, "hdr-s3cret-77", TEST_ADMIN_KEY[16:]):
        assert secret_text not in logs
        assert all(secret_text not in answer for answer in answers)


def test_database_passwords_stay_out_of_answers_and_logs(
    database: Database, database_url: str, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    add_key(database, "admin", plaintext=TEST_ADMIN_KEY)
    url = make_url(database_url)
    if backend == "postgresql":  # the test server trusts loopback: any password gets in
        url = url.set(password=PASSWORD)
    settings = webhook_settings(url.render_as_string(hide_password=False))
    with_password = Database(DatabaseSettings(url=url.render_as_string(hide_password=False)))
    with TestClient(create_app(settings, with_password), headers=bearer(TEST_ADMIN_KEY)) as client:
        assert client.get("/readyz").status_code == 200
        # Then the database goes away: the answers say so without naming the URL's password.
        down = make_url("postgresql+psycopg://driftline@127.0.0.1:1/gone").set(password=PASSWORD)
        gone = Database(DatabaseSettings(url=down.render_as_string(hide_password=False)))
        client.app.state.database = gone  # type: ignore[attr-defined]
        answers = [client.get("/readyz"), client.get("/v1/models"), client.get("/healthz")]
        gone.dispose()
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert all(PASSWORD not in a.text for a in answers)
    assert PASSWORD not in caplog.text
    with_password.dispose()
