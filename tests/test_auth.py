"""API keys: scopes, hashing, revocation, per-model ingest keys, rate limits, bootstrap."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from driftline.access.keystore import bootstrap_admin
from driftline.api.app import create_app
from driftline.core.security_settings import RateLimitSettings
from driftline.core.settings import Settings
from driftline.core.storage import Database
from driftline.core.storage.tables import ApiKey, PredictionEvent
from tests.helpers import FRAUD_MODEL, prediction
from tests.support.keys import TEST_ADMIN_KEY, add_key, bearer


@pytest.fixture
def anonymous(settings: Settings, database: Database) -> Iterator[TestClient]:
    """The API with no key sent by default; the database holds the test admin key."""
    add_key(database, "admin", plaintext=TEST_ADMIN_KEY)
    with TestClient(create_app(settings, database)) as test_client:
        yield test_client


def _stored_events(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(PredictionEvent)) or 0)


def test_no_key_or_a_bad_key_is_401(anonymous: TestClient) -> None:
    prefix = TEST_ADMIN_KEY[: len("dl_0123456789ab_")]
    for headers in (
        {},
        {"Authorization": "Bearer "},
        {"Authorization": f"Basic {TEST_ADMIN_KEY}"},
        bearer("not-a-key"),
        bearer(prefix + "x" * 43),  # the right prefix with a wrong secret
        {"X-API-Key": TEST_ADMIN_KEY + "x"},
    ):
        answer = anonymous.get("/v1/models", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.headers["www-authenticate"] == "Bearer"
        assert "API key" in answer.json()["detail"]
    assert anonymous.get("/v1/models", headers=bearer(TEST_ADMIN_KEY)).status_code == 200
    assert anonymous.get("/v1/models", headers={"X-API-Key": TEST_ADMIN_KEY}).status_code == 200
    assert anonymous.get("/healthz").status_code == 200


def test_key_lifecycle_through_the_api(anonymous: TestClient, database: Database) -> None:
    admin = bearer(TEST_ADMIN_KEY)
    assert anonymous.post("/v1/models", json=FRAUD_MODEL, headers=admin).status_code == 201
    created = anonymous.post(
        "/v1/keys", json={"name": "fraud servers", "scopes": ["ingest"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith(f"dl_{created.json()['prefix']}_") and len(key) >= 3 + 12 + 1 + 43
    ingest = {"X-API-Key": key}
    assert anonymous.post("/v1/events", json=[prediction()], headers=ingest).status_code == 200
    assert anonymous.get("/v1/models", headers=ingest).status_code == 403
    assert anonymous.get("/v1/keys", headers=ingest).status_code == 403

    # Stored as a SHA-256 only; listings show neither the key nor its hash.
    with database.read() as session:
        row = session.scalars(select(ApiKey).where(ApiKey.prefix == created.json()["prefix"])).one()
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert row.last_used_at is not None
        assert key not in repr([row.name, row.prefix, row.key_hash, row.scopes])
    listing = anonymous.get("/v1/keys", headers=admin)
    assert listing.status_code == 200
    assert key not in listing.text and row.key_hash not in listing.text
    assert "key_hash" not in listing.text and '"key"' not in listing.text
    assert {k["prefix"] for k in listing.json()} == {row.prefix, TEST_ADMIN_KEY[3:15]}

    revoked = anonymous.delete(f"/v1/keys/{created.json()['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert anonymous.post("/v1/events", json=[prediction()], headers=ingest).status_code == 401
    assert anonymous.delete("/v1/keys/999999", headers=admin).status_code == 404


def test_key_specs_are_checked(anonymous: TestClient) -> None:
    admin = bearer(TEST_ADMIN_KEY)
    for spec in (
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["root"]},
        {"name": "", "scopes": ["read"]},
        {"name": "a\nb", "scopes": ["read"]},
        {"name": "x", "scopes": ["admin"], "models": ["fraud"]},
        {"name": "x", "scopes": ["read"], "models": ["fraud"]},
        {"name": "x", "scopes": ["ingest"], "models": ["bad name!"]},
        {"name": "x", "scopes": ["ingest"], "key_hash": "0" * 64},
    ):
        assert anonymous.post("/v1/keys", json=spec, headers=admin).status_code == 422, spec


def test_a_model_restricted_key_writes_only_its_models(
    anonymous: TestClient, database: Database
) -> None:
    admin = bearer(TEST_ADMIN_KEY)
    for name in ("fraud", "churn"):
        model = FRAUD_MODEL | {"name": name}
        assert anonymous.post("/v1/models", json=model, headers=admin).status_code == 201
    key = bearer(add_key(database, "ingest", models=["fraud"]))
    mixed = [prediction(1), prediction(2, model="churn")]
    refused = anonymous.post("/v1/events", json=mixed, headers=key)
    assert refused.status_code == 403 and "'churn'" in refused.json()["detail"]
    labels = [{"event_id": "e1", "model": "churn", "label": "1"}]
    assert anonymous.post("/v1/labels", json=labels, headers=key).status_code == 403
    assert _stored_events(database) == 0  # nothing of the refused batch was stored
    accepted = anonymous.post("/v1/events", json=[prediction(3)], headers=key)
    assert accepted.status_code == 200 and accepted.json()["accepted"] == 1
    # An unrestricted ingest key writes both.
    anywhere = bearer(add_key(database, "ingest"))
    assert anonymous.post("/v1/events", json=mixed, headers=anywhere).json()["accepted"] == 2


def test_rate_limit_per_key(settings: Settings, database: Database) -> None:
    settings.rate_limit = RateLimitSettings(
        enabled=True, ingest_per_second=0.01, ingest_burst=2, admin_per_second=0.01, admin_burst=1
    )
    first, second = add_key(database, "ingest"), add_key(database, "ingest", "read")
    admin = add_key(database, "admin")
    with TestClient(create_app(settings, database)) as client:
        statuses = [client.post("/v1/events", json=[], headers=bearer(first)) for _ in range(3)]
        assert [s.status_code for s in statuses] == [200, 200, 429]
        assert int(statuses[2].headers["retry-after"]) >= 50  # one token per 100 s
        # Buckets are per key, and read routes are not limited.
        assert client.post("/v1/events", json=[], headers=bearer(second)).status_code == 200
        reads = [client.get("/v1/models", headers=bearer(second)) for _ in range(3)]
        assert [r.status_code for r in reads] == [200, 200, 200]
        assert client.post("/v1/models", json=FRAUD_MODEL, headers=bearer(admin)).status_code == 201
        assert client.delete("/v1/models/fraud", headers=bearer(admin)).status_code == 429


def test_last_used_is_written_at_most_once_per_resolution(
    anonymous: TestClient, database: Database
) -> None:
    key = add_key(database, "read")

    def last_used() -> object:
        with database.read() as session:
            return session.scalar(select(ApiKey.last_used_at).where(ApiKey.prefix == key[3:15]))

    assert last_used() is None
    anonymous.get("/v1/models", headers=bearer(key))
    first = last_used()
    assert first is not None
    anonymous.get("/v1/models", headers=bearer(key))
    assert last_used() == first


def test_bootstrap_creates_one_admin_key_even_when_racing(database: Database) -> None:
    results: list[str | None] = []

    def start() -> None:
        with database.write() as session:
            created = bootstrap_admin(session)
        results.append(created.key if created else None)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    created = [key for key in results if key]
    assert len(created) == 1 and len(results) == 4
    with database.write() as session:
        assert bootstrap_admin(session, TEST_ADMIN_KEY) is None  # keys exist: nothing added
        assert session.scalar(select(func.count()).select_from(ApiKey)) == 1
        assert session.scalars(select(ApiKey.scopes)).one() == ["admin"]


def test_bootstrap_takes_the_given_key_and_checks_its_format(database: Database) -> None:
    with database.write() as session, pytest.raises(ValueError, match="driftline keys generate"):
        bootstrap_admin(session, "too-short")
    with database.write() as session:
        created = bootstrap_admin(session, TEST_ADMIN_KEY)
    assert created is not None and created.key == TEST_ADMIN_KEY
