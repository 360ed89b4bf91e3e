"""Every route in the OpenAPI schema, with no key, a key of the wrong scope and the right one.

A new route must be added to SCOPES: the test fails on any route the table does not cover, so
nobody ships a route without deciding who may call it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from driftline.api.app import create_app
from driftline.core.settings import Settings
from driftline.core.storage import Database
from tests.support.keys import add_key, bearer

# (method, path prefix, scope): the first match wins; None means public.
SCOPES: list[tuple[str, str, str | None]] = [
    ("GET", "/healthz", None),
    ("GET", "/readyz", None),
    # What SDKs, collectors and model servers' payload loggers get.
    ("POST", "/v1/events", "ingest"),
    ("POST", "/v1/labels", "ingest"),
    ("POST", "/v1/ingest/cloudevents", "ingest"),
    # Keys and webhooks (secrets, outgoing URLs) are admin's, reads included.
    ("*", "/v1/keys", "admin"),
    ("*", "/v1/webhooks", "admin"),
    # On-call engineers acknowledge alerts and silence them with a read key.
    ("POST", "/v1/alerts/{alert_id}/ack", "read"),
    ("POST", "/v1/silences", "read"),
    ("DELETE", "/v1/silences/{silence_id}", "read"),
    ("GET", "/v1/alerts", "read"),
    ("GET", "/v1/silences", "read"),
    # Results and configuration can be read with a read key...
    ("GET", "/v1/models", "read"),
    ("GET", "/v1/references/", "read"),
    ("GET", "/v1/runs/", "read"),
    ("GET", "/v1/schema/events", "read"),
    # ...and changed with an admin key: models, references, monitors, rules, detection runs.
    ("POST", "/v1/models", "admin"),
    ("PATCH", "/v1/models/", "admin"),
    ("PUT", "/v1/models/", "admin"),
    ("DELETE", "/v1/models/", "admin"),
]

# A key that lacks the scope under test (admin includes the other two).
WRONG = {"read": ("ingest",), "ingest": ("read",), "admin": ("read", "ingest")}


def required_scope(method: str, path: str) -> str | None:
    for table_method, prefix, scope in SCOPES:
        if table_method in ("*", method) and path.startswith(prefix):
            return scope
    raise AssertionError(f"{method} {path} is not in SCOPES: decide its scope and add it")


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(method, path template, concrete URL) of each operation."""
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            url = path
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    integer = parameter.get("schema", {}).get("type") == "integer"
                    value = "999999" if integer else "nonexistent"
                    url = url.replace("{" + parameter["name"] + "}", value)
            assert not re.search(r"\{\w+\}", url), url
            yield method.upper(), path, url


@pytest.fixture
def anonymous(settings: Settings, database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database)) as client:
        yield client


def test_every_route_needs_the_right_key(anonymous: TestClient, database: Database) -> None:
    keys = {
        scopes: bearer(add_key(database, *scopes))
        for scopes in [("ingest",), ("read",), ("admin",), ("read", "ingest")]
    }
    operations = list(_operations(anonymous.app.openapi()))  # type: ignore[attr-defined]
    assert len(operations) >= 30
    failures = []
    for method, path, url in operations:
        scope = required_scope(method, path)
        body = None if method in ("GET", "DELETE") else {}

        def call(
            headers: dict[str, str], method: str = method, url: str = url, body: Any = body
        ) -> int:
            return anonymous.request(method, url, json=body, headers=headers).status_code

        anonymous_status = call({})
        if scope is None:
            if anonymous_status in (401, 403):
                failures.append(f"{method} {path}: public but {anonymous_status} without a key")
            continue
        wrong, right = call(keys[WRONG[scope]]), call(keys[(scope,)])
        if anonymous_status != 401:
            failures.append(f"{method} {path}: {anonymous_status} without a key, expected 401")
        if wrong != 403:
            failures.append(f"{method} {path}: {wrong} with {WRONG[scope]}, expected 403")
        if right in (401, 403):
            failures.append(f"{method} {path}: {right} with a {scope} key")
    assert failures == []


def test_metrics_needs_a_read_key_unless_configured_open(
    settings: Settings, database: Database
) -> None:
    read, ingest = bearer(add_key(database, "read")), bearer(add_key(database, "ingest"))
    with TestClient(create_app(settings, database)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers=ingest).status_code == 403
        scraped = client.get("/metrics", headers=read)
        assert scraped.status_code == 200 and "driftline_" in scraped.text
        # The schema and the docs page stay public: they hold no data.
        assert client.get("/openapi.json").status_code == 200
    settings.auth.metrics_require_key = False
    with TestClient(create_app(settings, database)) as client:
        assert client.get("/metrics").status_code == 200
        assert client.get("/v1/models").status_code == 401
