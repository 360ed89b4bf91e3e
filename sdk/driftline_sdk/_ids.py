"""Event ids (UUIDv7) and the deterministic sampling decision made from them."""

from __future__ import annotations

import os
import random
import time
import uuid
import zlib

__all__ = ["keep_for_sample", "uuid7"]

# A private generator seeded from the OS. Not os.urandom per id: that syscall releases the GIL,
# handing the worker thread a turn in the middle of the caller's log call (100+ us stalls).
# Not the global `random`: model code often calls random.seed(42), which would repeat our ids.
_rng = random.Random()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_rng.seed)  # a forked child must not repeat the parent's ids


def uuid7() -> str:
    """A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits.

    Ids sort by creation time, which keeps database indexes on ``event_id`` compact.

    >>> a = uuid7(); len(a), a[14]
    (36, '7')
    """
    millis = time.time_ns() // 1_000_000
    rand = _rng.getrandbits(80)
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | (rand & ((1 << 80) - 1))
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def keep_for_sample(event_id: str, rate: float) -> bool:
    """Whether an event is in the sample. A hash of the id, not a coin flip, decides, so a
    prediction's label (same id, logged later, maybe elsewhere) is sampled the same way.

    >>> keep_for_sample("abc", 1.0), keep_for_sample("abc", 0.0)
    (True, False)
    >>> keep_for_sample("abc", 0.5) == keep_for_sample("abc", 0.5)
    True
    """
    if rate >= 1.0:
        return True
    return zlib.crc32(event_id.encode("utf-8", "replace")) < rate * 4294967296.0
