"""Reference uploads on both backends: formats, checks per column, limits, replacement."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from tests.helpers import FRAUD_MODEL

URL = "/v1/models/fraud/versions/1/reference"


def _frame(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.normal(100, 20, n),
            "country": rng.choice(["DE", "FR", "US"], n),
            "is_new": rng.random(n) < 0.3,
            "prediction": rng.choice(["0", "1"], n),
        }
    )


def _setup(client: TestClient) -> None:
    assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201


def test_hundred_thousand_row_csv_multipart(client: TestClient) -> None:
    _setup(client)
    csv = _frame(100_000).to_csv(index=False).encode()
    response = client.post(URL, files={"file": ("train.csv", csv, "text/csv")})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["n_rows"] == 100_000 and body["source_format"] == "csv" and body["current"]
    assert body["content_hash"].startswith("sha256:")


def test_same_data_as_csv_parquet_json_has_one_hash(client: TestClient) -> None:
    _setup(client)
    frame = _frame(500)
    parquet = io.BytesIO()
    frame.to_parquet(parquet, index=False)
    uploads = [
        client.post(URL, content=frame.to_csv(index=False), headers={"content-type": "text/csv"}),
        client.post(
            URL,
            content=parquet.getvalue(),
            headers={"content-type": "application/vnd.apache.parquet"},
        ),
        client.post(
            URL,
            content=json.dumps(frame.to_dict(orient="records")),
            headers={"content-type": "application/json"},
        ),
    ]
    assert [u.status_code for u in uploads] == [201, 201, 201], [u.text for u in uploads]
    assert [u.json()["source_format"] for u in uploads] == ["csv", "parquet", "json"]
    assert len({u.json()["content_hash"] for u in uploads}) == 1


def test_replacing_keeps_the_old_reference_addressable(client: TestClient) -> None:
    _setup(client)
    first = client.post(URL, content=_frame(100, 1).to_csv(index=False)).json()
    second = client.post(URL, content=_frame(100, 2).to_csv(index=False)).json()
    listed = client.get("/v1/models/fraud/versions/1/references").json()
    assert [r["id"] for r in listed] == [second["id"], first["id"]]
    assert [r["current"] for r in listed] == [True, False]
    old = client.get(f"/v1/references/{first['id']}").json()
    assert old["content_hash"] == first["content_hash"] and old["current"] is False
    assert first["content_hash"] != second["content_hash"]


def test_each_offending_column_is_named(client: TestClient) -> None:
    _setup(client)
    frame = _frame(50).drop(columns=["country"])
    frame["amount"] = frame["amount"].astype(object)
    frame.loc[3, "amount"] = "lots"
    frame["is_new"] = "maybe"
    frame["user_id"] = range(50)
    response = client.post(URL, content=frame.to_csv(index=False))
    assert response.status_code == 422
    problems = {p["field"]: p["reason"] for p in response.json()["problems"]}
    assert set(problems) == {"amount", "country", "is_new", "user_id"}
    assert "expected numeric values, found 'lots'" in problems["amount"]
    assert problems["country"].startswith("missing")
    assert "expected booleans" in problems["is_new"]
    assert "not in the model's feature schema" in problems["user_id"]
    allowed = client.post(
        URL,
        params={"ignore_extra_columns": "true"},
        content=_frame(50).assign(user_id=1).to_csv(index=False),
    )
    assert allowed.status_code == 201 and "user_id" not in allowed.json()["columns"]


def test_duplicate_columns_and_garbage(client: TestClient) -> None:
    _setup(client)
    dup = client.post(URL, content=b"amount,amount,country,is_new\n1,2,DE,true\n")
    assert dup.status_code == 422
    assert dup.json()["problems"] == [{"field": "amount", "reason": "appears more than once"}]
    bad_parquet = client.post(URL, params={"format": "parquet"}, content=b"PAR1 not really")
    assert bad_parquet.status_code == 422
    bad_json = client.post(
        URL, content=json.dumps({"a": 1}), headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 422
    empty = client.post(URL, content=b"amount,country,is_new\n")
    assert empty.status_code == 422 and "no rows" in empty.text
    unknown = client.post(URL, params={"format": "xlsx"}, content=b"x")
    assert unknown.status_code == 422 and unknown.json()["problems"][0]["field"] == "format"


def test_limits(client: TestClient) -> None:
    _setup(client)
    limits = client.app.state.settings.reference  # type: ignore[attr-defined]
    limits.max_rows = 10
    rows = client.post(URL, content=_frame(11).to_csv(index=False))
    assert rows.status_code == 413 and "at most 10" in rows.text
    parquet = io.BytesIO()
    _frame(11).to_parquet(parquet)
    assert (
        client.post(URL, params={"format": "parquet"}, content=parquet.getvalue()).status_code
        == 413
    )
    limits.max_rows = 1000
    limits.max_bytes = 4096
    big = _frame(500).to_csv(index=False).encode()
    assert client.post(URL, content=big).status_code == 413
    assert client.post(URL, files={"file": ("a.csv", big, "text/csv")}).status_code == 413


def test_unknown_model_or_version(client: TestClient) -> None:
    _setup(client)
    csv = _frame(10).to_csv(index=False)
    assert client.post("/v1/models/ghost/versions/1/reference", content=csv).status_code == 404
    missing = client.post("/v1/models/fraud/versions/9/reference", content=csv)
    assert missing.status_code == 404 and "no version '9'" in missing.text
    assert client.get("/v1/references/999").status_code == 404
