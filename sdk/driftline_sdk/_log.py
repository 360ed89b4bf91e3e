"""The SDK's own logging: the ``driftline_sdk`` logger, at most one message per key a minute."""

from __future__ import annotations

import logging
import time
from typing import Any, Dict

__all__ = ["logger", "warn_limited"]

logger = logging.getLogger("driftline_sdk")
logger.addHandler(logging.NullHandler())  # a library never prints unless the app asks
_last: Dict[str, float] = {}
INTERVAL = 60.0


def warn_limited(key: str, message: str, *args: Any) -> None:
    now = time.monotonic()
    if now - _last.get(key, -INTERVAL) >= INTERVAL:
        _last[key] = now
        logger.warning(message, *args)
