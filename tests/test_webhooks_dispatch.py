"""The outbox dispatcher against real HTTP receivers on loopback, on SQLite and PostgreSQL,
with a controllable clock (no sleeps): retries, 410, redirects, 429, timeouts, disabling,
the SSRF check per attempt, leases and at most one successful attempt."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from alerting.webhooks.dispatcher import dispatch_due
from alerting.webhooks.sender import SendResult, send
from alerting.webhooks.ssrf import Target
from driftline.core.storage import Database
from tests.support.receiver import Answer, running_receiver
from tests.webhook_support import (
    attempts,
    delivery,
    endpoint_row,
    hmac_ok,
    make_endpoint,
    queue,
    webhook_settings,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_500_three_times_then_200_retries_with_the_same_id_and_growing_delays(
    database: Database, database_url: str
) -> None:
    settings = webhook_settings(database_url)
    script = [Answer(500), Answer(500), Answer(500), Answer(200)]
    with running_receiver(script) as receiver:
        endpoint_id, secret = make_endpoint(database, settings, receiver.url)
        message_id = queue(database, endpoint_id, T0, b'{"status":"firing"}')
        rng = random.Random(6)
        now, times = T0, []
        for _ in range(4):
            assert dispatch_due(database, settings, now=now, rng=rng) == 1
            times.append(now)
            row = delivery(database, message_id)
            if row.status == "delivered":
                break
            # Not due a second early: the clock, not the call, decides.
            early = row.next_attempt_at - timedelta(seconds=1)
            assert dispatch_due(database, settings, now=early, rng=rng) == 0
            now = row.next_attempt_at
    assert receiver.ids() == [message_id] * 4
    assert all(hmac_ok(secret, r.headers, r.body) for r in receiver.received)
    assert [r.headers["webhook-timestamp"] for r in receiver.received] == [
        str(int(t.timestamp())) for t in times
    ]
    delays = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert delays[0] < delays[1] < delays[2]
    for delay, nominal in zip(delays, [60, 180, 540], strict=True):  # documented schedule
        assert 0.8 * nominal <= delay <= 1.2 * nominal
    row = delivery(database, message_id)
    assert (row.status, row.attempts, row.delivered_at) == ("delivered", 4, times[-1])
    assert [a.status_code for a in attempts(database, message_id)] == [500, 500, 500, 200]
    assert endpoint_row(database, endpoint_id).consecutive_failures == 0


def test_410_disables_the_endpoint_and_fails_its_pending_deliveries(
    database: Database, database_url: str
) -> None:
    settings = webhook_settings(database_url)
    with running_receiver([Answer(410)]) as receiver:
        endpoint_id, _ = make_endpoint(database, settings, receiver.url)
        first, second = queue(database, endpoint_id, T0), queue(database, endpoint_id, T0)
        assert dispatch_due(database, settings, now=T0) == 1
    assert receiver.ids() == [first]  # the second was not sent after the 410
    endpoint = endpoint_row(database, endpoint_id)
    assert not endpoint.enabled
    assert "410" in (endpoint.disabled_reason or "")
    assert delivery(database, first).status == delivery(database, second).status == "failed"
    assert dispatch_due(database, settings, now=T0 + timedelta(days=1)) == 0


def test_a_redirect_is_a_failure_and_is_not_followed(database: Database, database_url: str) -> None:
    settings = webhook_settings(database_url)
    with running_receiver() as receiver:
        receiver.script.append(Answer(302, {"Location": receiver.url + "/elsewhere"}))
        endpoint_id, _ = make_endpoint(database, settings, receiver.url)
        message_id = queue(database, endpoint_id, T0)
        assert dispatch_due(database, settings, now=T0) == 1
    assert [r.path for r in receiver.received] == ["/hook"]
    [attempt] = attempts(database, message_id)
    assert attempt.status_code == 302 and "302" in (attempt.error or "")
    row = delivery(database, message_id)
    assert row.status == "pending" and row.next_attempt_at > T0


def test_429_retry_after_in_seconds_and_as_an_http_date_is_honoured(
    database: Database, database_url: str
) -> None:
    settings = webhook_settings(database_url)
    later = T0 + timedelta(seconds=120)
    script = [
        Answer(429, {"Retry-After": "120"}),
        Answer(429, {"Retry-After": format_datetime(later + timedelta(seconds=900), True)}),
        Answer(200),
    ]
    with running_receiver(script) as receiver:
        endpoint_id, _ = make_endpoint(database, settings, receiver.url)
        message_id = queue(database, endpoint_id, T0)
        assert dispatch_due(database, settings, now=T0) == 1
        assert delivery(database, message_id).next_attempt_at == later
        assert dispatch_due(database, settings, now=later) == 1
        assert delivery(database, message_id).next_attempt_at == later + timedelta(seconds=900)
        assert dispatch_due(database, settings, now=later + timedelta(seconds=900)) == 1
    assert delivery(database, message_id).status == "delivered"
    assert len(receiver.received) == 3


def test_a_slow_receiver_times_out(database: Database, database_url: str) -> None:
    settings = webhook_settings(database_url, timeout_s=0.3)
    with running_receiver([Answer(200, delay_s=3)]) as receiver:
        endpoint_id, _ = make_endpoint(database, settings, receiver.url)
        message_id = queue(database, endpoint_id, T0)
        assert dispatch_due(database, settings, now=T0) == 1
    [attempt] = attempts(database, message_id)
    assert attempt.status_code is None and "timed out" in (attempt.error or "")
    assert 0.25 <= attempt.latency_s < 2
    assert delivery(database, message_id).status == "pending"


def test_consecutive_failed_deliveries_disable_the_endpoint(
    database: Database, database_url: str
) -> None:
    settings = webhook_settings(database_url, max_attempts=1, disable_after_failures=2)
    with running_receiver(default=Answer(503)) as receiver:
        endpoint_id, _ = make_endpoint(database, settings, receiver.url)
        ids = [queue(database, endpoint_id, T0 + timedelta(seconds=i)) for i in range(3)]
        assert dispatch_due(database, settings, now=T0 + timedelta(seconds=5)) == 2
    assert receiver.ids() == ids[:2]
    endpoint = endpoint_row(database, endpoint_id)
    assert not endpoint.enabled
    assert endpoint.disabled_reason == "2 consecutive deliveries failed"
    assert {delivery(database, i).status for i in ids} == {"failed"}


def test_the_ssrf_check_runs_on_every_attempt(database: Database, database_url: str) -> None:
    allowed = webhook_settings(database_url)
    with running_receiver() as receiver:
        endpoint_id, _ = make_endpoint(database, allowed, receiver.url)
        message_id = queue(database, endpoint_id, T0)
        refused = webhook_settings(database_url, allowed_hosts=[])
        assert dispatch_due(database, refused, now=T0) == 1
    assert receiver.received == []
    [attempt] = attempts(database, message_id)
    assert attempt.status_code is None
    assert "refused" in (attempt.error or "") and "loopback" in (attempt.error or "")
    assert delivery(database, message_id).status == "pending"


def test_a_claim_of_a_killed_dispatcher_is_taken_again_when_its_lease_runs_out(
    database: Database, database_url: str
) -> None:
    settings = webhook_settings(database_url, lease_s=60)

    def dies(target: Target, body: bytes, headers: Mapping[str, str], timeout: float) -> SendResult:
        raise KeyboardInterrupt  # the process dies mid-request

    with running_receiver() as receiver:
        endpoint_id, _ = make_endpoint(database, settings, receiver.url)
        message_id = queue(database, endpoint_id, T0)
        with pytest.raises(KeyboardInterrupt):
            dispatch_due(database, settings, now=T0, sender=dies)
        assert dispatch_due(database, settings, now=T0 + timedelta(seconds=59)) == 0
        assert dispatch_due(database, settings, now=T0 + timedelta(seconds=61)) == 1
    assert receiver.ids() == [message_id]
    assert delivery(database, message_id).status == "delivered"


def test_two_dispatchers_sending_one_message_record_one_success(
    database: Database, database_url: str
) -> None:
    settings = webhook_settings(database_url, lease_s=60)
    late = T0 + timedelta(seconds=61)

    def slow(target: Target, body: bytes, headers: Mapping[str, str], timeout: float) -> SendResult:
        # While this attempt hangs past its lease, another dispatcher takes the message over.
        assert dispatch_due(database, settings, now=late) == 1
        return send(target, body, headers, timeout)

    with running_receiver() as receiver:
        endpoint_id, _ = make_endpoint(database, settings, receiver.url)
        message_id = queue(database, endpoint_id, T0)
        assert dispatch_due(database, settings, now=T0, sender=slow) == 1
    assert receiver.ids() == [message_id, message_id]  # at least once; receivers dedupe
    rows = attempts(database, message_id)
    assert [a.status_code for a in rows] == [200, 200]
    assert [a.error is None for a in rows] == [True, False]
    assert "duplicate" in (rows[1].error or "")
    assert delivery(database, message_id).status == "delivered"


def test_concurrent_dispatchers_never_send_a_message_twice(
    database: Database, database_url: str
) -> None:
    settings = webhook_settings(database_url, batch_size=3)
    with running_receiver() as receiver:
        endpoint_id, _ = make_endpoint(database, settings, receiver.url)
        ids = [queue(database, endpoint_id, T0) for _ in range(30)]
        errors: list[BaseException] = []

        def drain() -> None:
            try:
                while dispatch_due(database, settings, now=T0):
                    pass
            except BaseException as exc:  # reported below, not lost in the thread
                errors.append(exc)

        workers = [threading.Thread(target=drain) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
    assert errors == []
    assert sorted(receiver.ids()) == sorted(ids)  # each exactly once: the claims never overlap
    assert {delivery(database, i).status for i in ids} == {"delivered"}
