"""API key format, generation and hashing, and the scopes a key can hold.

A key reads ``dl_<prefix>_<secret>``: the 12 hex digits of ``prefix`` are public (they find the
row and appear in listings), the secret is 32 random bytes in URL-safe base64. Only the SHA-256
of the whole key is stored. A slow password hash would add nothing: nobody can enumerate 2**256
secrets, and a fast hash keeps each request cheap.

>>> key = generate()
>>> parse_prefix(key.plaintext) == key.prefix
True
>>> matches(key.plaintext, key.key_hash), matches(key.plaintext + "x", key.key_hash)
(True, False)
>>> grants({"admin"}, Scope.READ), grants({"read"}, Scope.INGEST)
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "KEY_PATTERN",
    "NewKey",
    "Scope",
    "from_plaintext",
    "generate",
    "grants",
    "hash_key",
    "matches",
    "parse_prefix",
]

SECRET_BYTES = 32
PREFIX_BYTES = 6
# The secret is base64url without padding: 43 characters for 32 bytes.
KEY_PATTERN = r"^dl_([0-9a-f]{12})_([A-Za-z0-9_-]{43,128})$"
_KEY = re.compile(KEY_PATTERN)


class Scope(StrEnum):
    """What a key may do. ``admin`` includes the other two."""

    INGEST = "ingest"  # POST /v1/events, /v1/labels: what SDKs and collectors get
    READ = "read"  # results, alerts, reports, metrics
    ADMIN = "admin"  # models, references, monitors, webhooks, alert rules, silences, keys


@dataclass(frozen=True, slots=True)
class NewKey:
    plaintext: str
    prefix: str
    key_hash: str


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def generate() -> NewKey:
    """A fresh random key."""
    prefix = secrets.token_hex(PREFIX_BYTES)
    plaintext = f"dl_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return NewKey(plaintext, prefix, hash_key(plaintext))


def from_plaintext(plaintext: str) -> NewKey:
    """A key chosen elsewhere (``DRIFTLINE_BOOTSTRAP_ADMIN_KEY``), checked for the format."""
    prefix = parse_prefix(plaintext)
    if prefix is None:
        raise ValueError(
            "an API key must look like dl_<12 hex digits>_<at least 43 base64url characters>; "
            "`driftline keys generate` prints a fresh one"
        )
    return NewKey(plaintext, prefix, hash_key(plaintext))


def parse_prefix(presented: str) -> str | None:
    """The lookup prefix of a well-formed key, ``None`` for anything else."""
    match = _KEY.match(presented)
    return match.group(1) if match else None


def matches(presented: str, stored_hash: str) -> bool:
    """Constant-time comparison, so response time tells nothing about the stored hash."""
    return hmac.compare_digest(hash_key(presented), stored_hash)


def grants(held: Iterable[str], needed: Scope) -> bool:
    """Whether a key holding ``held`` scopes may act with ``needed``."""
    scopes = set(held)
    return needed.value in scopes or Scope.ADMIN.value in scopes
