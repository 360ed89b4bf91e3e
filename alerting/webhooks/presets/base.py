"""What a preset produces (:class:`PresetRequest`) and the helpers the presets share."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = ["PresetError", "PresetRequest", "auth_headers", "compact", "segment"]


class PresetError(ValueError):
    """A stored preset cannot build its request (options or credentials missing)."""


@dataclass(frozen=True, slots=True)
class PresetRequest:
    """One request to a retraining system. Every preset POSTs.

    ``path`` (with its query) is appended to the endpoint's base URL. ``done_statuses`` are
    answers that mean an earlier attempt of the same message already did the work: the run id
    is derived from the ``webhook-id``, so a retry after a lost answer is refused as a
    duplicate, which counts as delivered.
    """

    path: str
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    done_statuses: frozenset[int] = frozenset()

    def url(self, base: str) -> str:
        return base.rstrip("/") + self.path


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def segment(value: Any) -> str:
    """One path segment, percent-encoded (a ``/`` in it too, as GitLab's project paths want)."""
    if not isinstance(value, str) or not value:
        raise PresetError("a stored preset option is missing")
    return quote(value, safe="")


def auth_headers(
    values: Mapping[str, Any], user_key: str | None = None, password_key: str | None = None
) -> dict[str, str]:
    """``Authorization``: HTTP Basic from ``user_key`` + ``password_key``, else Bearer from
    ``token``, else nothing (the system accepts anonymous calls, or custom headers carry it)."""
    user = values.get(user_key) if user_key else None
    password = values.get(password_key) if password_key else None
    if user is not None and password is not None:
        pair = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}
    token = values.get("token")
    return {"Authorization": f"Bearer {token}"} if token else {}
