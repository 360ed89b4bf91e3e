"""Webhook endpoints: create, read, change, delete, rotate the secret (behind ``/v1/webhooks``).

URLs pass the SSRF check when set (and again on every attempt). The signing secret, the
custom headers and preset credentials are stored encrypted (:mod:`alerting.webhooks.secrets`);
the secret is returned once, by :func:`create_endpoint` and :func:`rotate_secret`, header
values and credentials never. An endpoint with a preset (:mod:`alerting.webhooks.presets`)
keeps the system's base URL and the ``driftline`` format its requests are built from.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.webhooks.outbox import disable_endpoint
from alerting.webhooks.presets.registry import check_base_url
from alerting.webhooks.presets.specs import PresetSpec, split_preset
from alerting.webhooks.records import (
    CreatedEndpoint,
    EndpointRecord,
    EndpointSpec,
    EndpointUpdate,
    RotatedSecret,
)
from alerting.webhooks.secrets import SecretBox
from alerting.webhooks.signing import generate_secret
from alerting.webhooks.ssrf import Resolver, check_url
from driftline.core.errors import FieldProblem, InvalidInputError, NotFoundError
from driftline.core.storage.tables import WebhookEndpoint

__all__ = [
    "create_endpoint",
    "delete_endpoint",
    "find_endpoint",
    "get_endpoint",
    "list_endpoints",
    "rotate_secret",
    "update_endpoint",
]

# PATCH fields copied as given (``models``/``severities`` may be set back to null: every one).
_PLAIN = ("name", "models", "severities", "events", "payload_format", "min_retrain_interval_s")
_NULLABLE = ("models", "severities")


def find_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFoundError(f"webhook endpoint {endpoint_id} does not exist")
    return endpoint


def _record(endpoint: WebhookEndpoint, box: SecretBox) -> EndpointRecord:
    names: list[str] = []
    if endpoint.headers_encrypted is not None:
        names = sorted(box.decrypt_json(endpoint.headers_encrypted))
    secret_names: list[str] = []
    if endpoint.preset_secrets_encrypted is not None:
        secret_names = sorted(box.decrypt_json(endpoint.preset_secrets_encrypted))
    return EndpointRecord(
        id=endpoint.id,
        name=endpoint.name,
        url=endpoint.url,
        models=endpoint.models,
        severities=endpoint.severities,
        events=endpoint.events,
        payload_format=endpoint.payload_format,
        header_names=names,
        preset=endpoint.preset,
        preset_secret_names=secret_names,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        min_retrain_interval_s=endpoint.min_retrain_interval_s,
        consecutive_failures=endpoint.consecutive_failures,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


def _headers(box: SecretBox, headers: dict[str, str]) -> bytes | None:
    return box.encrypt_json(headers) if headers else None


def _set_preset(endpoint: WebhookEndpoint, spec: PresetSpec | None, box: SecretBox) -> None:
    if spec is None:
        endpoint.preset, endpoint.preset_secrets_encrypted = None, None
        return
    options, secrets = split_preset(spec)
    endpoint.preset = options
    endpoint.preset_secrets_encrypted = box.encrypt_json(secrets) if secrets else None


def _check_preset(endpoint: WebhookEndpoint) -> None:
    """A preset needs its system's base URL and the ``driftline`` evidence to build from."""
    if endpoint.preset is None:
        return
    check_base_url(str(endpoint.preset["system"]), endpoint.url)
    if endpoint.payload_format != "driftline":
        reason = "must be driftline with a preset: the preset builds its request from it"
        raise InvalidInputError(
            f"payload_format: {reason}", [FieldProblem("payload_format", reason)]
        )


def create_endpoint(
    session: Session,
    spec: EndpointSpec,
    *,
    box: SecretBox,
    allowed_hosts: Sequence[str],
    now: datetime,
    resolver: Resolver | None = None,
) -> CreatedEndpoint:
    """Store a new endpoint with a fresh secret; the only answer that contains the secret."""
    if spec.preset is not None:
        # Before resolving the host: "github.com" is a mistake whether or not it resolves.
        check_base_url(spec.preset.system, spec.url)
    target = check_url(spec.url, allowed_hosts, resolver=resolver)
    secret = generate_secret()
    endpoint = WebhookEndpoint(
        name=spec.name or target.host,
        url=spec.url,
        models=spec.models,
        severities=spec.severities,
        events=list(spec.events),
        payload_format=spec.payload_format,
        secret_encrypted=box.encrypt(secret),
        headers_encrypted=_headers(box, spec.headers),
        preset=None,
        preset_secrets_encrypted=None,
        enabled=spec.enabled,
        disabled_reason=None if spec.enabled else "created disabled",
        min_retrain_interval_s=spec.min_retrain_interval_s,
        consecutive_failures=0,
        created_at=now,
        updated_at=now,
    )
    _set_preset(endpoint, spec.preset, box)
    _check_preset(endpoint)
    session.add(endpoint)
    session.flush()
    return CreatedEndpoint(**_record(endpoint, box).model_dump(), secret=secret)


def list_endpoints(session: Session, *, box: SecretBox) -> list[EndpointRecord]:
    rows = session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))
    return [_record(endpoint, box) for endpoint in rows]


def get_endpoint(session: Session, endpoint_id: int, *, box: SecretBox) -> EndpointRecord:
    return _record(find_endpoint(session, endpoint_id), box)


def update_endpoint(
    session: Session,
    endpoint_id: int,
    update: EndpointUpdate,
    *,
    box: SecretBox,
    allowed_hosts: Sequence[str],
    now: datetime,
    resolver: Resolver | None = None,
) -> EndpointRecord:
    """Apply the fields given. Disabling fails the pending deliveries (redeliver them after
    enabling again); enabling clears the failure count."""
    endpoint = find_endpoint(session, endpoint_id)
    given = update.model_fields_set
    if update.url is not None:
        endpoint.url = update.url
    changes: dict[str, Any] = {
        name: getattr(update, name)
        for name in _PLAIN
        if name in given and (getattr(update, name) is not None or name in _NULLABLE)
    }
    for name, value in changes.items():
        setattr(endpoint, name, value)
    if update.headers is not None:
        endpoint.headers_encrypted = _headers(box, update.headers)
    if "preset" in given:
        _set_preset(endpoint, update.preset, box)
    _check_preset(endpoint)  # on the result: a new url must fit the preset, and the reverse
    if update.url is not None:
        check_url(update.url, allowed_hosts, resolver=resolver)
    if update.enabled is False and endpoint.enabled:
        disable_endpoint(session, endpoint, reason="disabled through the API", now=now)
    elif update.enabled and not endpoint.enabled:
        endpoint.enabled, endpoint.disabled_reason, endpoint.consecutive_failures = True, None, 0
    endpoint.updated_at = now
    session.flush()
    return _record(endpoint, box)


def rotate_secret(
    session: Session, endpoint_id: int, *, box: SecretBox, now: datetime
) -> RotatedSecret:
    """Replace the signing secret; the next attempt of every message is signed with it."""
    endpoint = find_endpoint(session, endpoint_id)
    secret = generate_secret()
    endpoint.secret_encrypted = box.encrypt(secret)
    endpoint.updated_at = now
    return RotatedSecret(id=endpoint.id, secret=secret)


def delete_endpoint(session: Session, endpoint_id: int) -> None:
    """Delete the endpoint with its deliveries and their attempts."""
    session.delete(find_endpoint(session, endpoint_id))
