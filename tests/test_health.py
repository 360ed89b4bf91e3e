"""Probes and the refusal to start on a schema that is not at head."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from driftline.api.app import create_app
from driftline.core.errors import SchemaNotCurrentError
from driftline.core.settings import Settings
from driftline.core.storage import Database, downgrade, upgrade


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_readyz_reports_a_schema_behind_head(client: TestClient, database: Database) -> None:
    downgrade(database, "base")
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "driftline db upgrade" in response.json()["reason"]
    finally:
        upgrade(database)


def test_service_refuses_to_start_on_an_old_schema(settings: Settings, database: Database) -> None:
    downgrade(database, "base")
    try:
        with (
            pytest.raises(SchemaNotCurrentError, match="run `driftline db upgrade`"),
            TestClient(create_app(settings, database)),
        ):
            pass
    finally:
        upgrade(database)


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/models", "/v1/events", "/v1/labels", "/v1/schema/events"} <= set(paths)
