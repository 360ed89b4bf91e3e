"""Killing the dispatcher's process with 50 deliveries pending loses none: after a restart all
50 reach the receiver, and each delivery has exactly one successful attempt in the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from driftline.core.storage import Database
from driftline.core.storage.tables import WebhookAttempt, WebhookDelivery
from tests.support.receiver import running_receiver
from tests.webhook_support import TEST_SECRET_KEY, make_endpoint, queue, webhook_settings

ROOT = Path(__file__).parents[1]
MESSAGES = 50
HELD = 10  # the receiver holds this request open: the process dies with it in flight

# What a dispatcher process does, configured from the environment like the service.
DISPATCHER = """
import time
from alerting.webhooks.dispatcher import dispatch_due
from driftline.core.settings import load_settings
from driftline.core.storage import Database
settings = load_settings()
database = Database(settings.database)
while True:
    if dispatch_due(database, settings) == 0:
        time.sleep(0.02)
"""


def _start(database_url: str, cwd: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DRIFTLINE_DATABASE__URL": database_url,
        "DRIFTLINE_SECRET_KEY": TEST_SECRET_KEY,
        "DRIFTLINE_WEBHOOKS__ALLOWED_HOSTS": "127.0.0.1",
        "DRIFTLINE_WEBHOOKS__TIMEOUT_S": "1",
        "DRIFTLINE_WEBHOOKS__LEASE_S": "3",
        "DRIFTLINE_WEBHOOKS__BATCH_SIZE": "5",
    }
    return subprocess.Popen([sys.executable, "-c", DISPATCHER], env=env, cwd=cwd)


def _delivered(database: Database) -> int:
    with database.read() as session:
        query = select(func.count()).where(WebhookDelivery.status == "delivered")
        return int(session.scalar(query) or 0)


def test_killed_with_50_pending_then_restarted_delivers_each_once(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    settings = webhook_settings(database_url)
    with running_receiver(hold_at=HELD) as receiver:
        endpoint_id, _ = make_endpoint(database, settings, receiver.url)
        ids = [queue(database, endpoint_id, datetime.now(UTC)) for _ in range(MESSAGES)]
        first = _start(database_url, tmp_path)
        try:
            assert receiver.holding.wait(60), "the dispatcher never reached the held request"
            first.send_signal(signal.SIGKILL)
            assert first.wait(10) == -signal.SIGKILL
        finally:
            first.kill()
        receiver.release()
        held_id = receiver.ids()[HELD - 1]
        assert _delivered(database) == HELD - 1  # sequential: the ones answered before it
        second = _start(database_url, tmp_path)
        try:
            deadline = time.monotonic() + 60
            while _delivered(database) < MESSAGES:
                assert second.poll() is None, "the restarted dispatcher exited"
                assert time.monotonic() < deadline, f"{_delivered(database)} delivered"
                time.sleep(0.1)
        finally:
            second.send_signal(signal.SIGKILL)
            second.wait(10)
    received = Counter(receiver.ids())
    assert set(received) == set(ids)
    # At least once: only the message in flight at the kill was received twice.
    assert {i: n for i, n in received.items() if n > 1} == {held_id: 2}
    with database.read() as session:
        rows = session.execute(
            select(WebhookDelivery.message_id, WebhookAttempt.status_code, WebhookAttempt.error)
            .join(WebhookAttempt, WebhookAttempt.delivery_id == WebhookDelivery.id)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
        ).all()
    successes = Counter(m for m, code, error in rows if code == 200 and error is None)
    assert successes == Counter(dict.fromkeys(ids, 1))
    assert len(rows) == MESSAGES  # the killed attempt left no row; no duplicate was recorded
