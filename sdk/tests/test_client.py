"""The client against a local receiver: delivery, retries, drops, bounds, fork."""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Dict, List

import driftline_sdk
from driftline_sdk import Client
from driftline_sdk.transports.base import SendResult
from tests.latency import fewest_blocked
from tests.receiver import Receiver

FEATURES = {f"f{i}": float(i) for i in range(20)}


def _client(url: str, **options: Any) -> Client:
    options.setdefault("flush_interval", 0.05)
    return Client(model="fraud", model_version="3", transport=url, **options)


def _balanced(stats: Dict[str, Any]) -> bool:
    return stats["logged"] == stats["sent"] + stats["queued"] + sum(stats["dropped"].values())


def test_delivers_in_batches_with_key(receiver: Receiver) -> None:
    client = _client(receiver.url, api_key="secret", batch_size=100)
    ids = [client.log_prediction(FEATURES, "1", tags={"region": "eu"}) for _ in range(250)]
    label_id = ids[0]
    client.log_label(label_id, "0")
    assert client.flush(5) == 0
    assert sorted(receiver.ids) == sorted(ids + [label_id])
    assert all(len(r["body"]["events"]) <= 100 for r in receiver.requests)
    first = receiver.requests[0]
    assert first["headers"]["Authorization"] == "Bearer secret"
    assert first["path"] == "/v1/events"
    event = first["body"]["events"][0]
    assert event["model_version"] == "3" and event["tags"] == {"region": "eu"}
    stats = client.stats()
    assert stats["sent"] == 251 and stats["dropped"] == {} and _balanced(stats)
    client.close()


def test_retries_5xx_and_honours_retry_after(receiver: Receiver) -> None:
    receiver.script = [(500, {}), (503, {}), (429, {"Retry-After": "1"})]
    client = _client(receiver.url)
    client.log_prediction(FEATURES, "1")
    started = time.monotonic()
    assert client.flush(10) == 0
    assert time.monotonic() - started >= 1.0  # waited as told by Retry-After
    assert len(receiver.requests) == 4 and client.stats()["retries"] == 3
    ids = {r["body"]["events"][0]["event_id"] for r in receiver.requests}
    assert len(ids) == 1  # the same event each time
    client.close()


def test_4xx_is_not_retried_and_reason_is_kept(receiver: Receiver) -> None:
    receiver.script = [(400, {})]
    client = _client(receiver.url)
    client.log_prediction(FEATURES, "1")
    assert client.flush(5) == 0
    stats = client.stats()
    assert stats["dropped"] == {"rejected": 1} and "HTTP 400" in stats["last_error"]
    assert len(receiver.requests) == 1
    client.close()


def test_per_event_rejections_are_counted(receiver: Receiver) -> None:
    client = _client(receiver.url)
    bad = client.log_prediction(FEATURES, "1")
    receiver.reject_ids.add(bad)
    client.log_prediction(FEATURES, "0")
    client.flush(5)
    stats = client.stats()
    assert stats["sent"] == 1 and stats["dropped"] == {"rejected": 1}
    assert stats["last_error"] == f"bad {bad}"
    client.close()


def test_service_down_never_blocks_and_counts_add_up(dead_url: str) -> None:
    client = _client(dead_url, queue_size=1000)
    blocked = fewest_blocked(lambda: client.log_prediction(FEATURES, "1"), 5000)
    assert blocked == [], f"calls blocked for {[round(b * 1000, 2) for b in blocked]} ms"
    started = time.monotonic()
    pending = client.flush(2)
    assert time.monotonic() - started < 2.2
    stats = client.stats()
    assert pending == stats["queued"] > 0
    assert stats["dropped"]["queue_full"] >= 4000 - client.options.batch_size
    assert _balanced(stats) and stats["logged"] == 5000
    assert "cannot reach" in stats["last_error"]
    client.close(timeout=0.1)
    final = client.stats()
    assert final["queued"] == 0 and final["dropped"]["shutdown"] == pending and _balanced(final)


def test_queued_events_are_delivered_when_the_service_returns(receiver: Receiver) -> None:
    receiver.script = [(503, {})] * 3
    client = _client(receiver.url)
    ids = [client.log_prediction(FEATURES, "1") for _ in range(50)]
    assert client.flush(10) == 0
    assert sorted(set(receiver.ids)) == sorted(ids)
    client.close()


def test_unserializable_values_and_worker_exceptions_are_counted(receiver: Receiver) -> None:
    client = _client(receiver.url)
    client.log_prediction({"a": object()}, "1")
    client.log_prediction("not a mapping", "1")
    assert client.flush(5) == 0
    assert client.stats()["dropped"] == {"unserializable": 1, "invalid": 1}

    class Exploding:
        calls = 0

        def send(self, events: List[Any]) -> SendResult:
            Exploding.calls += 1
            if Exploding.calls == 1:
                raise RuntimeError("boom")
            return SendResult(len(events), [])

        def close(self) -> None:
            pass

    worker = client._worker
    assert worker is not None
    worker._factory = Exploding  # type: ignore[assignment]
    worker._transport = None
    client.log_prediction(FEATURES, "1")
    client.flush(5)
    client.log_prediction(FEATURES, "1")
    assert client.flush(5) == 0
    stats = client.stats()
    assert stats["dropped"]["internal_error"] == 1 and stats["sent"] == 1
    assert "boom" in stats["last_error"] and _balanced(stats)
    client.close()


def test_sampling_keeps_labels_with_their_predictions(receiver: Receiver) -> None:
    client = _client(receiver.url, sample_rate=0.5)
    ids = [client.log_prediction(FEATURES, "1") for _ in range(400)]
    for event_id in ids:
        client.log_label(event_id, "1")
    client.flush(5)
    sent = [i for i in receiver.ids]
    predictions = set(sent[: len(sent)])
    assert 120 < len(predictions) < 280
    assert sent.count(sent[0]) == 2  # each kept id arrives as prediction and label
    assert client.stats()["dropped"]["sampled"] == 800 - len(sent)
    client.close()


def test_forked_child_logs_and_delivers(receiver: Receiver) -> None:
    client = _client(receiver.url)
    client.log_prediction(FEATURES, "parent-before")
    client.flush(5)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: its own worker and transport
        try:
            event_id = client.log_prediction(FEATURES, "child")
            left = client.flush(5)
            os.write(write, f"{event_id} {left} {client.stats()['sent']}".encode())
        finally:
            os._exit(0)
    os.close(write)
    child_id, left, sent = os.read(read, 200).decode().split()
    os.waitpid(pid, 0)
    parent_id = client.log_prediction(FEATURES, "parent-after")
    assert client.flush(5) == 0
    assert (left, sent) == ("0", "1")
    assert child_id in receiver.ids and parent_id in receiver.ids
    assert client.stats()["sent"] == 2
    client.close()


def test_module_level_client_is_a_noop_until_init(receiver: Receiver) -> None:
    assert driftline_sdk.stats()["logged"] == 0
    driftline_sdk.log_prediction(FEATURES, "1")
    client = driftline_sdk.init(model="fraud", transport=receiver.url, flush_interval=0.05)
    try:
        event_id = driftline_sdk.log_prediction(FEATURES, "1")
        assert driftline_sdk.flush(5) == 0
        assert receiver.ids == [event_id]
    finally:
        client.close()


def test_many_threads_count_exactly(receiver: Receiver) -> None:
    client = _client(receiver.url, queue_size=100_000)

    def work() -> None:
        for _ in range(5000):
            client.log_prediction(FEATURES, "1")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.flush(20) == 0
    assert len(set(receiver.ids)) == 40_000 and client.stats()["sent"] == 40_000
    client.close()
