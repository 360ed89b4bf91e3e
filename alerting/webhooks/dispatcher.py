"""Sending due deliveries from the outbox: claim with a lease, send outside any transaction,
record the attempt and decide what comes next.

Claiming sets ``leased_until`` in a short transaction (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so dispatchers in several processes take different rows; SQLite's write lock
serialises them). A dispatcher killed mid-batch leaves its leases to run out, and the rows are
claimed again after that: receivers get each message at least once and dedupe on
``webhook-id``. The lease value is the claim's token: an attempt whose lease was taken over
(or whose delivery was redelivered meanwhile) is recorded but decides nothing, and a second 2xx
for an already delivered message is recorded as a duplicate, so each delivery has at most one
successful attempt.
"""

from __future__ import annotations

import logging
import random
import secrets as token
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from alerting.webhooks.message import compose
from alerting.webhooks.outbox import PENDING, disable_endpoint
from alerting.webhooks.presets.base import PresetError
from alerting.webhooks.schedule import retry_delay
from alerting.webhooks.secrets import SecretBox, SecretKeyError, load_box
from alerting.webhooks.sender import Sender, SendResult, send
from alerting.webhooks.ssrf import Resolver, UnsafeUrlError, check_url
from driftline.core.settings import Settings
from driftline.core.storage import Database
from driftline.core.storage.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = ["dispatch_due"]

log = logging.getLogger(__name__)

_MARGIN_S = 1.0  # DNS lookup and database writes around one attempt, within the lease


@dataclass(frozen=True, slots=True)
class _Claim:
    delivery_id: int
    endpoint_id: int
    message_id: str
    body: bytes
    url: str
    secret_encrypted: bytes
    headers_encrypted: bytes | None
    preset: dict[str, Any] | None
    preset_secrets_encrypted: bytes | None
    lease: datetime


def _claim(database: Database, settings: Settings, now: datetime) -> list[_Claim]:
    webhooks = settings.webhooks
    # Sub-millisecond noise makes each claim's lease value unique, even under a fixed test clock.
    lease = now + timedelta(seconds=webhooks.lease_s, microseconds=token.randbelow(1000))
    query = (
        select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == PENDING,
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.leased_until.is_(None), WebhookDelivery.leased_until <= now),
            WebhookEndpoint.enabled.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(webhooks.batch_size)
    )
    if database.dialect == "postgresql":
        query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
    with database.write() as session:
        claims = []
        for delivery, endpoint in session.execute(query).tuples():
            delivery.leased_until = lease
            claims.append(
                _Claim(
                    delivery.id,
                    endpoint.id,
                    delivery.message_id,
                    delivery.body,
                    endpoint.url,
                    endpoint.secret_encrypted,
                    endpoint.headers_encrypted,
                    endpoint.preset,
                    endpoint.preset_secrets_encrypted,
                    lease,
                )
            )
        return claims


def _release(database: Database, claims: list[_Claim]) -> None:
    with database.write() as session:
        for claim in claims:
            session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == claim.delivery_id,
                    WebhookDelivery.leased_until == claim.lease,
                )
                .values(leased_until=None)
            )


def _attempt(
    claim: _Claim,
    box: SecretBox | SecretKeyError,
    settings: Settings,
    sender: Sender,
    resolver: Resolver | None,
    at: datetime,
) -> SendResult:
    webhooks = settings.webhooks
    try:
        if isinstance(box, SecretKeyError):
            raise box
        secret = box.decrypt(claim.secret_encrypted)
        custom = box.decrypt_json(claim.headers_encrypted) if claim.headers_encrypted else {}
        preset_secrets = (
            box.decrypt_json(claim.preset_secrets_encrypted)
            if claim.preset_secrets_encrypted
            else {}
        )
    except SecretKeyError as exc:
        return SendResult(None, 0.0, error=str(exc))
    try:
        outgoing = compose(
            url=claim.url,
            body=claim.body,
            message_id=claim.message_id,
            secret=secret,
            headers=custom,
            preset=claim.preset,
            preset_secrets=preset_secrets,
            timestamp=int(at.timestamp()),
        )
    except PresetError as exc:
        return SendResult(None, 0.0, error=f"preset: {exc}")
    try:
        # On every attempt: DNS answers and the allowlist may have changed since creation.
        target = check_url(outgoing.url, webhooks.allowed_hosts, resolver=resolver)
    except UnsafeUrlError as exc:
        return SendResult(None, 0.0, error=f"refused: {exc.reason}")
    result = sender(target, outgoing.body, outgoing.headers, webhooks.timeout_s)
    if result.status in outgoing.done_statuses:
        note = f"HTTP {result.status}: the run exists already (an earlier attempt created it)"
        return replace(result, accepted=True, error=note)
    return result


def _record(
    database: Database,
    claim: _Claim,
    result: SendResult,
    at: datetime,
    settings: Settings,
    rng: random.Random,
) -> bool:
    """Store the attempt and its consequences; whether the endpoint is still enabled."""
    webhooks = settings.webhooks
    with database.write() as session:
        delivery = session.get(WebhookDelivery, claim.delivery_id, with_for_update=True)
        endpoint = session.get(WebhookEndpoint, claim.endpoint_id, with_for_update=True)
        if delivery is None or endpoint is None:
            return False  # the endpoint was deleted (with its deliveries) during the attempt
        attempt = WebhookAttempt(
            delivery_id=delivery.id,
            attempted_at=at,
            status_code=result.status,
            latency_s=result.latency_s,
            error=result.error,
        )
        session.add(attempt)
        if result.ok:
            if delivery.status == "delivered":
                attempt.error = "duplicate: the message was already delivered by another attempt"
                return endpoint.enabled
            delivery.status, delivery.delivered_at, delivery.last_error = "delivered", at, None
            delivery.attempts += 1
            delivery.leased_until = None
            endpoint.consecutive_failures = 0
            return endpoint.enabled
        if delivery.status != PENDING or delivery.leased_until != claim.lease:
            attempt.error = f"{result.error} (superseded: the delivery changed meanwhile)"
            return endpoint.enabled
        delivery.attempts += 1
        delivery.leased_until = None
        delivery.last_error = result.error
        if result.status == 410:
            disable_endpoint(session, endpoint, reason="the receiver answered 410 Gone", now=at)
            return False
        if delivery.attempts < webhooks.max_attempts:
            delay = retry_delay(
                delivery.attempts, result.status, result.retry_after, at, webhooks, rng
            )
            delivery.next_attempt_at = at + timedelta(seconds=delay)
            return endpoint.enabled
        delivery.status = "failed"
        endpoint.consecutive_failures += 1
        if endpoint.enabled and endpoint.consecutive_failures >= webhooks.disable_after_failures:
            reason = f"{endpoint.consecutive_failures} consecutive deliveries failed"
            disable_endpoint(session, endpoint, reason=reason, now=at)
        return endpoint.enabled


def dispatch_due(
    database: Database,
    settings: Settings,
    *,
    now: datetime | None = None,
    sender: Sender | None = None,
    rng: random.Random | None = None,
    resolver: Resolver | None = None,
) -> int:
    """Send one batch of due deliveries; the number of attempts made.

    ``now`` fixes the clock (tests); ``sender``, ``rng`` and ``resolver`` replace the HTTP
    attempt, the jitter's random source and DNS.
    """

    def clock() -> datetime:
        return now if now is not None else datetime.now(UTC)

    started = time.monotonic()
    claims = _claim(database, settings, clock())
    if not claims:
        return 0
    box: SecretBox | SecretKeyError
    try:
        box = load_box(settings)
    except SecretKeyError as exc:
        box = exc
    rng = rng or random.Random()
    made = 0
    disabled: set[int] = set()  # endpoints this batch disabled: their other claims were failed
    for index, claim in enumerate(claims):
        if claim.endpoint_id in disabled:
            continue
        # Stop before the lease could run out mid-request; the rest go back to the outbox.
        if time.monotonic() - started + settings.webhooks.timeout_s + _MARGIN_S > (
            settings.webhooks.lease_s
        ):
            _release(database, claims[index:])
            break
        at = clock()
        result = _attempt(claim, box, settings, sender or send, resolver, at)
        if not _record(database, claim, result, at, settings, rng):
            disabled.add(claim.endpoint_id)
        made += 1
        log.info(
            "webhook %s: %s in %.3f s",
            claim.message_id,
            result.status if result.error is None else result.error,
            result.latency_s,
        )
    return made
