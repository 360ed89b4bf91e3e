"""Hostile events and uploads: SQL in names, 10 kB names, Unicode, NaN/Infinity, deep nesting.

Each is either refused with 4xx naming the problem, or stored as data and read back as sent;
the database schema is the same afterwards on both backends.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from driftline.core.storage import Database
from driftline.core.storage.migrate import current_revision
from tests.helpers import FRAUD_MODEL, prediction

SQL = "amount'; DROP TABLE models; --"
LONG = "a" * 10_000
NAMES = [SQL, LONG, "größe", "名前", 'x"); DELETE FROM api_keys; --', "", "a b", "-x"]


def _schema(database: Database) -> dict[str, list[tuple[str, str]]]:
    inspector = inspect(database.engine)
    return {
        table: sorted((c["name"], str(c["type"])) for c in inspector.get_columns(table))
        for table in sorted(inspector.get_table_names())
    }


def _raw(client: TestClient, path: str, body: str) -> Any:
    return client.post(path, content=body.encode(), headers={"Content-Type": "application/json"})


def test_hostile_events_are_refused_or_stored_as_data(
    client: TestClient, database: Database
) -> None:
    before, revision = _schema(database), current_revision(database)
    assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201
    events = [prediction(i, features={"amount": 1.0, name: 1}) for i, name in enumerate(NAMES)]
    report = client.post("/v1/events", json=events).json()
    assert report["accepted"] == 0 and report["rejected"] == len(NAMES)
    assert all(error["field"].startswith("features") for error in report["errors"])

    # SQL and Unicode as values are data: stored and read back exactly.
    values = [SQL, "名前 🙂", LONG[:1000], "\\'\";"]
    sent = [prediction(i, features={"amount": 2.0, "country": v}) for i, v in enumerate(values)]
    assert client.post("/v1/events", json=sent).json()["accepted"] == len(values)
    page = client.get("/v1/models/fraud/events", params={"limit": 10}).json()["events"]
    assert sorted(e["features"]["country"] for e in page) == sorted(values)

    # NaN and Infinity (which Python's JSON reader accepts) and nested values are stored as
    # missing values (type violations); a prediction of -Infinity refuses its event.
    odd = [
        '{"event_id": "nan-1", "model": "fraud", "features": {"amount": NaN}, "prediction": "1"}',
        '{"event_id": "inf-1", "model": "fraud", "features": {"amount": Infinity}, '
        '"prediction": "1"}',
        '{"event_id": "inf-2", "model": "fraud", "features": {"amount": 1}, '
        '"prediction": -Infinity}',
        '{"event_id": "deep-1", "model": "fraud", "features": {"amount": '
        + "[" * 30
        + "]" * 30
        + '}, "prediction": "1"}',
    ]
    answer = _raw(client, "/v1/events", "[" + ",".join(odd) + "]")
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 3 and answer.json()["type_violations"] >= 2
    stored = {e["event_id"]: e for e in client.get("/v1/models/fraud/events").json()["events"]}
    for event_id in ("nan-1", "inf-1", "deep-1"):  # stored, the odd value as a missing one
        assert stored[event_id]["features"].get("amount") is None
    assert "inf-2" not in stored  # a prediction must be a finite number or a class
    for path in ("/v1/events", "/v1/labels"):
        assert _raw(client, path, "[" * 100_000 + "]" * 100_000).status_code == 422
        assert _raw(client, path, '{"events": [').status_code == 422

    # Model names and feature names are checked the same way at registration.
    for name in (SQL, LONG, "名前"):
        spec = FRAUD_MODEL | {"features": [{"name": name, "type": "numeric"}]}
        assert client.post("/v1/models", json=spec | {"name": "m2"}).status_code == 422
        assert client.post("/v1/models", json=FRAUD_MODEL | {"name": name}).status_code == 422
    assert client.get("/v1/models/fraud").status_code == 200
    assert _schema(database) == before and current_revision(database) == revision


def _upload(client: TestClient, data: bytes, fmt: str) -> Any:
    url = f"/v1/models/fraud/versions/1/reference?format={fmt}"
    return client.post(url, files={"file": (f"ref.{fmt}", data, "application/octet-stream")})


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_hostile_reference_uploads_get_422_naming_the_problem(
    client: TestClient, database: Database
) -> None:
    before = _schema(database)
    assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201
    good = "amount,country,is_new\n1.5,DE,true\n2.5,FR,false\n"
    for name in NAMES[:5]:
        header = f'amount,country,is_new,"{name.replace(chr(34), chr(34) * 2)}"'
        answer = _upload(client, f"{header}\n1,DE,true,1\n".encode(), "csv")
        assert answer.status_code == 422, (name[:20], answer.text)
        problem = answer.json()["problems"][0]
        assert problem["field"] == (
            name if len(name) <= 64 else f"{name[:64]}... (10000 characters)"
        )
        assert "must match" in problem["reason"]
    duplicate = _upload(client, b"amount,country,is_new,amount\n1,DE,true,2\n", "csv")
    assert duplicate.status_code == 422
    assert duplicate.json()["problems"] == [{"field": "amount", "reason": "appears more than once"}]
    long_cell = _upload(client, f"amount,country,is_new\n1,{LONG},true\n".encode(), "csv")
    assert long_cell.status_code == 422
    assert long_cell.json()["problems"][0]["field"] == "country"
    records = [{"amount": 1, "country": "DE", "is_new": True, SQL: 1}]
    assert _upload(client, json.dumps(records).encode(), "json").status_code == 422
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    assert _upload(client, deep, "json").status_code == 422

    nested = pa.table(
        {
            "amount": [1.0, 2.0],
            "country": [["DE"], ["FR"]],
            "is_new": [True, False],
        }
    )
    refused = _upload(client, _parquet(nested), "parquet")
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["field"] == "country"
    assert "list" in refused.json()["problems"][0]["reason"]
    unicode_names = pa.table({"amount": [1.0], "country": ["DE"], "is_new": [True], "größe": [1]})
    assert _upload(client, _parquet(unicode_names), "parquet").status_code == 422

    # NaN and Infinity in a numeric column are data (missing and infinite values).
    odd = _upload(client, b"amount,country,is_new\nnan,DE,true\ninf,FR,false\n2,US,true\n", "csv")
    assert odd.status_code == 201, odd.text
    assert _upload(client, good.encode(), "csv").status_code == 201
    assert _schema(database) == before
