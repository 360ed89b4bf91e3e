"""Standard Webhooks signatures (https://www.standardwebhooks.com, symmetric ``v1`` scheme).

A secret is ``whsec_`` followed by the base64 of at least 24 random bytes. Each request carries
``webhook-id`` (stable across retries, the receiver's idempotency key), ``webhook-timestamp``
(unix seconds of the attempt) and ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of
``f"{id}.{timestamp}.{body}"`` under the decoded secret.

>>> secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
>>> sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as random_bytes
from collections.abc import Mapping

__all__ = [
    "PREFIX",
    "SECRET_BYTES",
    "SignatureError",
    "generate_secret",
    "sign",
    "signed_headers",
    "verify",
]

PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for at least 24
DEFAULT_TOLERANCE_S = 300  # replay window the specification's libraries use


class SignatureError(ValueError):
    """A signature, its headers or a secret is missing, malformed or does not match."""


def generate_secret() -> str:
    """A new random signing secret in the ``whsec_`` format."""
    return PREFIX + base64.b64encode(random_bytes.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(PREFIX)
    try:
        # The reference libraries accept unpadded base64 too; b64decode ignores extra '='.
        key = base64.b64decode(raw + "==", validate=False)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("the secret is not base64") from exc
    if not key:
        raise SignatureError("the secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of one message at one timestamp."""
    if "." in msg_id:
        # The signed content is dot-delimited; a dot in the id would make it ambiguous.
        raise SignatureError("the message id must not contain '.'")
    content = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> None:
    """Raise :class:`SignatureError` unless ``headers`` sign ``body`` under ``secret``.

    The timestamp must be within ``tolerance_s`` of ``now`` (against replays); any of the
    space-separated ``v1`` signatures may match (several are sent while a secret rotates).
    """
    lower = {name.lower(): value for name, value in headers.items()}
    msg_id = lower.get("webhook-id")
    stamp = lower.get("webhook-timestamp")
    given = lower.get("webhook-signature")
    if not (msg_id and stamp and given):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise SignatureError("webhook-timestamp is not an integer") from exc
    if abs(now - timestamp) > tolerance_s:
        raise SignatureError("webhook-timestamp is outside the tolerance")
    expected = sign(secret, msg_id, timestamp, body).encode()
    for candidate in given.split(" "):
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return
    raise SignatureError("no matching signature")
