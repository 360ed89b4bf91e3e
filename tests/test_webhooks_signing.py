"""Standard Webhooks signatures (the specification's example vector, the published library, a
plain hmac check, the documented receiver) and the encryption of secrets at rest."""

from __future__ import annotations

import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from alerting.webhooks.dispatcher import dispatch_due
from alerting.webhooks.secrets import SecretBox, SecretKeyError, load_box
from alerting.webhooks.signing import SignatureError, generate_secret, sign, signed_headers, verify
from driftline.core.settings import DatabaseSettings, Settings
from driftline.core.storage import Database
from driftline.core.storage.tables import WebhookEndpoint
from tests.support.receiver import running_receiver
from tests.webhook_support import attempts, hmac_ok, make_endpoint, queue, webhook_settings

ROOT = Path(__file__).parents[1]

# The published example of the specification's Python library (libraries/python/tests).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specifications_example_vector() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    unprefixed = SPEC_SECRET.removeprefix("whsec_")
    assert sign(unprefixed, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    library = Webhook(SPEC_SECRET).sign(
        SPEC_ID, datetime.fromtimestamp(SPEC_TIMESTAMP, UTC), SPEC_BODY.decode()
    )
    assert library == SPEC_SIGNATURE


def test_our_signatures_verify_with_the_published_library_and_a_plain_hmac() -> None:
    secret = generate_secret()
    body = b'{"status":"firing","model":"fraud"}'
    headers = signed_headers(secret, "msg_0123abcd", int(time.time()), body)
    assert Webhook(secret).verify(body, headers) == {"status": "firing", "model": "fraud"}
    assert hmac_ok(secret, headers, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)


def test_verify_refuses_tampering_other_secrets_and_stale_timestamps() -> None:
    secret, now = generate_secret(), 1_700_000_000
    headers = signed_headers(secret, "msg_1", now, b"{}")
    verify(secret, headers, b"{}", now=now + 10)
    rotating = dict(headers, **{"webhook-signature": "v1,AAAA " + headers["webhook-signature"]})
    verify(secret, rotating, b"{}", now=now)
    for bad_secret, body, at in [
        (secret, b'{"x":1}', now),
        (generate_secret(), b"{}", now),
        (secret, b"{}", now + 301),
    ]:
        with pytest.raises(SignatureError):
            verify(bad_secret, headers, body, now=at)
    with pytest.raises(SignatureError):
        sign(secret, "msg.with.dots", now, b"{}")


def test_generated_secrets_are_long_random_and_prefixed() -> None:
    secrets = {generate_secret() for _ in range(100)}
    assert len(secrets) == 100
    for secret in secrets:
        assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret)  # 32 bytes >= the 24 asked


def test_the_box_encrypts_rotates_keys_and_names_a_wrong_key() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox([old]).encrypt("whsec_abc")
    assert b"whsec_abc" not in token
    rotated = SecretBox([new, old])
    assert rotated.decrypt(token) == "whsec_abc"
    assert SecretBox([new]).decrypt(rotated.encrypt("x")) == "x"
    with pytest.raises(SecretKeyError) as caught:
        SecretBox([new]).decrypt(token)
    assert new not in str(caught.value) and "another key" in str(caught.value)
    with pytest.raises(SecretKeyError, match="Fernet"):
        SecretBox(["not-a-key"])


def test_the_key_file_is_created_once_with_mode_0600_even_by_racing_processes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state" / "secret.key"
    script = (
        "import sys; from alerting.webhooks.secrets import load_box; "
        "from driftline.core.settings import Settings; "
        f"box = load_box(Settings(secret_key_file={str(path)!r})); print(box.encrypt('x').decode())"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DRIFTLINE_SECRET_KEY", None)
    racers = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
        for _ in range(4)
    ]
    tokens = [racer.communicate(timeout=60)[0].decode().strip().encode() for racer in racers]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no temporary files left
    box = load_box(Settings(secret_key="", secret_key_file=str(path)))  # empty means unset
    assert [box.decrypt(token) for token in tokens] == ["x"] * 4


@pytest.fixture
def sqlite_database(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Database, str]]:
    shutil.copyfile(sqlite_template, tmp_path / "db.sqlite")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    database = Database(DatabaseSettings(url=url))
    yield database, url
    database.dispose()


def _documented_receiver() -> str:
    text = (ROOT / "docs" / "webhooks.md").read_text()
    marker = text.index("<!-- tested: tests/test_webhooks_signing.py")
    return text[marker:].split("```python\n", 1)[1].split("```", 1)[0]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_documented_receiver_accepts_our_messages_and_refuses_forgeries(
    sqlite_database: tuple[Database, str], tmp_path: Path
) -> None:
    database, url = sqlite_database
    settings = webhook_settings(url)
    code = _documented_receiver()
    assert len([line for line in code.splitlines() if line.strip()]) <= 15
    (tmp_path / "receiver.py").write_text(code)
    port = _free_port()
    endpoint_id, secret = make_endpoint(database, settings, f"http://127.0.0.1:{port}/")
    forged_id, _ = make_endpoint(database, settings, f"http://127.0.0.1:{port}/")
    env = {**os.environ, "WEBHOOK_SECRET": secret, "PORT": str(port)}
    process = subprocess.Popen([sys.executable, str(tmp_path / "receiver.py")], env=env)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the documented receiver did not start"
                time.sleep(0.05)
        now = datetime.now(UTC)
        genuine, forged = queue(database, endpoint_id, now), queue(database, forged_id, now)
        assert dispatch_due(database, settings) == 2
    finally:
        process.terminate()
        process.wait(10)
    assert [a.status_code for a in attempts(database, genuine)] == [204]
    assert [a.status_code for a in attempts(database, forged)] == [401]


def test_secrets_never_reach_the_log(
    sqlite_database: tuple[Database, str], caplog: pytest.LogCaptureFixture
) -> None:
    database, url = sqlite_database
    settings = webhook_settings(url)
    with running_receiver() as receiver:
        endpoint_id, secret = make_endpoint(
            database, settings, receiver.url, headers={"X-CI-Token": "token-value-123"}
        )
        queue(database, endpoint_id, datetime.now(UTC))
        with caplog.at_level("DEBUG"):
            assert dispatch_due(database, settings) == 1
    assert receiver.received[0].headers["x-ci-token"] == "token-value-123"
    assert secret not in caplog.text and "token-value-123" not in caplog.text
    with database.read() as session:
        row = session.get(WebhookEndpoint, endpoint_id)
        assert row is not None and row.headers_encrypted is not None
        assert secret.encode() not in row.secret_encrypted
        assert b"token-value-123" not in row.headers_encrypted
        assert load_box(settings).decrypt(row.secret_encrypted) == secret


def test_a_malformed_secret_key_is_refused_at_start_up() -> None:
    from cryptography.fernet import Fernet
    from pydantic import ValidationError

    from driftline.core.settings import Settings

    two = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    assert Settings(secret_key=two).secret_key is not None  # type: ignore[arg-type]
    assert Settings(secret_key="").secret_key is not None  # type: ignore[arg-type]  # unset
    for bad in ("CHANGE-ME", "c2hvcnQ=", f"{Fernet.generate_key().decode()},x"):
        with pytest.raises(ValidationError, match="Fernet keys"):
            Settings(secret_key=bad)  # type: ignore[arg-type]
