"""Reading V1, Open Inference Protocol (V2) and Seldon payloads into features and predictions."""

from __future__ import annotations

import pytest

from driftline.core.errors import InvalidInputError
from driftline.inference_logs.cloudevent import parse_http
from driftline.inference_logs.mapping import MappingSpec, Resolved
from driftline.inference_logs.payloads import request_rows, response_outputs
from driftline.inference_logs.receive import event_ids

ORDER = ["age", "income", "city"]


def resolved(**spec: object) -> Resolved:
    return Resolved("m", ORDER, MappingSpec(service="svc", **spec))


def test_v2_flat_row_major_data_and_columnar_inputs() -> None:
    flat = {
        "inputs": [
            {"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [30, 1.5, 7, 40, 2.5, 8]}
        ]
    }
    assert request_rows(flat, resolved()) == [
        {"age": 30, "income": 1.5, "city": 7},
        {"age": 40, "income": 2.5, "city": 8},
    ]
    # MLServer's pandas codec: one 1-D tensor per column, named like the feature.
    columns = {
        "inputs": [
            {"name": "age", "shape": [2], "datatype": "INT64", "data": [30, 40]},
            {"name": "town", "shape": [2, 1], "datatype": "BYTES", "data": ["Oslo", "Rome"]},
        ]
    }
    rows = request_rows(columns, resolved(inputs={"town": "city"}))
    assert rows == [{"age": 30, "city": "Oslo"}, {"age": 40, "city": "Rome"}]


def test_v2_probabilities_become_class_and_score() -> None:
    body = {
        "outputs": [
            {"name": "predict", "shape": [1], "datatype": "INT64", "data": [2]},
            {"name": "predict_proba", "shape": [1, 3], "datatype": "FP64", "data": [0.1, 0.2, 0.7]},
        ]
    }
    assert response_outputs(body, resolved()) == [(2, None)]
    named = resolved(output="predict_proba", classes=["a", "b", "c"])
    assert response_outputs(body, named) == [("c", {"a": 0.1, "b": 0.2, "c": 0.7})]
    with pytest.raises(InvalidInputError) as missing:
        response_outputs(body, resolved(output="nope"))
    assert "no output named 'nope'" in missing.value.problems[0].reason


def test_v1_objects_and_mismatches() -> None:
    body = {"instances": [{"age": 3, "earnings": 9.0}]}
    assert request_rows(body, resolved(inputs={"earnings": "income"})) == [
        {"age": 3, "income": 9.0}
    ]
    with pytest.raises(InvalidInputError) as short:
        request_rows({"instances": [[1, 2]]}, resolved())
    assert short.value.problems[0].field == "instances[0]"
    answer = {"predictions": [{"label": "yes", "p": 0.9}]}
    assert response_outputs(answer, resolved(prediction_key="label")) == [("yes", None)]
    with pytest.raises(InvalidInputError) as unkeyed:
        response_outputs(answer, resolved())
    assert "prediction_key" in unkeyed.value.problems[0].reason
    with pytest.raises(InvalidInputError) as shape:
        request_rows({"inputs": [{"name": "x", "shape": [2, 3], "data": [1, 2]}]}, resolved())
    assert "shape [2, 3] needs 6" in shape.value.problems[0].reason


def test_seldon_ndarray_with_names() -> None:
    body = {"data": {"names": ["age", "city"], "ndarray": [[30, "Oslo"]]}}
    assert request_rows(body, resolved()) == [{"age": 30, "city": "Oslo"}]
    answer = {"data": {"names": ["t:0", "t:1"], "ndarray": [[0.8, 0.2]]}, "meta": {}}
    assert response_outputs(answer, resolved()) == [("t:0", {"t:0": 0.8, "t:1": 0.2})]
    with pytest.raises(InvalidInputError) as unknown:
        request_rows({"strData": "hello"}, resolved())
    assert "expected a V1" in unknown.value.problems[0].reason


def test_event_ids_name_the_request() -> None:
    assert event_ids("abc-1", 1) == ["abc-1"]
    assert event_ids("abc-1", 2) == ["abc-1:0", "abc-1:1"]
    odd = event_ids("has spaces/and slashes", 1)[0]
    assert odd.startswith("ce-") and len(odd) == 43


def test_binary_headers_are_percent_decoded_and_extensions_kept() -> None:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "id%201",
        "ce-source": "http://x/",
        "ce-type": "org.kubeflow.serving.inference.request",
        "ce-inferenceservicename": "svc",
        "ce-metadata": "%7B%7D",
        "content-type": "application/json",
    }
    [event] = parse_http(headers, b"{}")
    assert (event.id, event.half, event.extensions["metadata"]) == ("id 1", "request", "{}")
    assert event.pair_key == "/svc//id 1"


def test_a_time_out_of_range_in_utc_is_a_clear_error() -> None:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "http://x/",
        "ce-type": "org.kubeflow.serving.inference.request",
        "ce-time": "0001-01-01T00:30:00+01:00",
        "content-type": "application/json",
    }
    with pytest.raises(InvalidInputError) as info:
        parse_http(headers, b"{}")
    assert "out of range once converted to UTC" in str(info.value.problems)
