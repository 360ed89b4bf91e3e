"""Property-based fuzzing of the whole API from its OpenAPI schema (schemathesis + hypothesis).

Every operation gets a bounded number of generated requests, with an admin key so they reach
the handlers; the checks: no 5xx, status codes and content types that the schema documents,
and bodies that match the documented response schemas.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from driftline.api.app import create_app
from driftline.core.settings import DatabaseSettings, Settings
from driftline.core.storage import Database
from tests.helpers import FRAUD_MODEL, prediction
from tests.support.keys import TEST_ADMIN_KEY, add_key, bearer

EXAMPLES_PER_OPERATION = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(sqlite_template: Path, tmp_path: Path) -> Iterator[schemathesis.BaseSchema]:
    """The app on a fresh SQLite copy with one model and some events, its lifespan running."""
    target = tmp_path / "fuzz.db"
    shutil.copyfile(sqlite_template, target)
    database = Database(DatabaseSettings(url=f"sqlite:///{target}"))
    add_key(database, "admin", plaintext=TEST_ADMIN_KEY)
    app = create_app(Settings(database=DatabaseSettings(url=f"sqlite:///{target}")), database)
    with TestClient(app, headers=bearer(TEST_ADMIN_KEY)) as client:
        assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201
        assert client.post("/v1/events", json=[prediction(i) for i in range(20)]).status_code == 200
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    database.dispose()


def test_fuzzed_requests_get_documented_answers(api_schema: schemathesis.BaseSchema) -> None:
    # One hypothesis run per operation, inside one test: schemathesis' own pytest plugin does
    # not support this pytest, and the fixtures here need the test's database anyway.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 30
    # Revoking keys last: the fuzzer would otherwise revoke its own key early on.
    operations.sort(key=lambda op: (op.method.upper(), op.path) == ("DELETE", "/v1/keys/{key_id}"))
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,  # the same examples every run: a CI failure reproduces
            database=None,
        )
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=bearer(TEST_ADMIN_KEY), checks=CHECKS)

        fuzz()
