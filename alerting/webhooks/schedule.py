"""When a failed webhook delivery is tried again: exponential backoff with jitter.

Attempt ``n + 1`` waits ``min(retry_base_s * retry_factor ** (n - 1), retry_max_delay_s)``,
scaled by a random factor in ``[1 - retry_jitter, 1 + retry_jitter]`` so that receivers
recovering from an outage are not hit by every sender at the same instant. With the defaults
(60 s, x3, at most 6 h, 10 attempts) the nominal schedule spans about 24 hours:

>>> from driftline.core.webhook_settings import WebhookSettings
>>> delays = nominal_delays(WebhookSettings())
>>> [round(d / 60) for d in delays]
[1, 3, 9, 27, 81, 243, 360, 360, 360]
>>> round(sum(delays) / 3600, 1)
24.1

A ``Retry-After`` answer (seconds or an HTTP date) replaces the computed delay on 429 and 503,
capped at ``retry_max_delay_s`` so a receiver cannot park a delivery for ever.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from driftline.core.webhook_settings import WebhookSettings

__all__ = ["backoff_delay", "nominal_delays", "parse_retry_after", "retry_delay"]

_RETRY_AFTER_STATUSES = (429, 503)


def nominal_delays(settings: WebhookSettings) -> list[float]:
    """The delays before attempts 2..max_attempts, without jitter."""
    return [
        min(settings.retry_base_s * settings.retry_factor ** (n - 1), settings.retry_max_delay_s)
        for n in range(1, settings.max_attempts)
    ]


def backoff_delay(attempts: int, settings: WebhookSettings, rng: random.Random) -> float:
    """Seconds to wait after ``attempts`` failed attempts (``attempts >= 1``)."""
    nominal = min(
        settings.retry_base_s * settings.retry_factor ** (attempts - 1), settings.retry_max_delay_s
    )
    jitter = settings.retry_jitter
    return nominal * rng.uniform(1 - jitter, 1 + jitter)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for, or None when absent or unreadable.

    >>> parse_retry_after("120", datetime(2026, 1, 1, tzinfo=UTC))
    120.0
    >>> parse_retry_after("Thu, 01 Jan 2026 00:05:00 GMT", datetime(2026, 1, 1, tzinfo=UTC))
    300.0
    >>> parse_retry_after("soon", datetime(2026, 1, 1, tzinfo=UTC)) is None
    True
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP dates are GMT by definition
    return max(0.0, (when - now).total_seconds())


def retry_delay(
    attempts: int,
    status: int | None,
    retry_after: str | None,
    now: datetime,
    settings: WebhookSettings,
    rng: random.Random,
) -> float:
    """The wait before the next attempt after ``attempts`` attempts, the last one answered
    ``status`` (None: no answer) with ``retry_after``."""
    if status in _RETRY_AFTER_STATUSES:
        asked = parse_retry_after(retry_after, now)
        if asked is not None:
            return min(asked, settings.retry_max_delay_s)
    return backoff_delay(attempts, settings, rng)
