"""API keys on every request: who is calling, may they, and not too often.

Routes declare their scope with ``dependencies=[Depends(require_scope("admin"))]`` (or take
the :class:`Principal` as a parameter). A route that declares nothing is not open: the app-wide
:func:`default_guard` asks for ``read`` on GET and HEAD and for ``admin`` on every other method,
so a forgotten declaration fails closed for writes. Only ``/healthz`` and ``/readyz`` are
public, and ``/metrics`` when ``auth.metrics_require_key`` is off.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from fastapi import Request, Security
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from driftline.access.keys import Scope
from driftline.access.keystore import Principal, authenticate, touch
from driftline.access.ratelimit import RateLimiter
from driftline.core.errors import AuthenticationError, ForbiddenError, RateLimitedError
from driftline.core.settings import Settings
from driftline.core.storage import Database

__all__ = ["AuthState", "Principal", "check_models", "default_guard", "require_scope"]

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})
METRICS_PATH = "/metrics"

# auto_error=False: a missing header is our 401 in our error shape, not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer dl_...")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: dl_...")


@dataclass
class AuthState:
    """Per-process auth state, kept on ``app.state.auth``."""

    settings: Settings
    limiters: dict[Scope, RateLimiter]
    touched: dict[int, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    declared: dict[int, bool] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> AuthState:
        limits = settings.rate_limit
        enabled = limits.enabled
        if enabled is None:  # the embedded SQLite default serves one local user
            enabled = make_url(settings.database.url).get_backend_name() != "sqlite"
        limiters = {}
        if enabled:
            limiters[Scope.INGEST] = RateLimiter(limits.ingest_per_second, limits.ingest_burst)
            limiters[Scope.ADMIN] = RateLimiter(limits.admin_per_second, limits.admin_burst)
        return cls(settings, limiters)

    def should_touch(self, key_id: int) -> bool:
        """Whether this process should write the key's last_used_at now (at most once per
        resolution; the UPDATE's own condition covers the other replicas)."""
        now = time.monotonic()
        resolution = self.settings.auth.last_used_resolution_s
        with self.lock:
            if now - self.touched.get(key_id, -math.inf) < resolution:
                return False
            self.touched[key_id] = now
            return True


def _presented(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is not None:
        kind, _, value = header.partition(" ")
        if kind.lower() == "basic":
            # The key as the password of HTTP Basic: senders that can only be given a URL
            # (KServe's payload logger) put it there as http://driftline:KEY@host/...
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
            return decoded.partition(":")[2] or None
        return value.strip() if kind.lower() == "bearer" and value.strip() else None
    return request.headers.get("x-api-key") or None


def authorize(request: Request, scope: Scope) -> Principal:
    """The caller's key, if it is active and holds ``scope``; rate-limited per key."""
    state: AuthState = request.app.state.auth
    database: Database = request.app.state.database
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        presented = _presented(request)
        if presented is None:
            raise AuthenticationError(
                "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
            )
        with database.read() as session:
            principal = authenticate(session, presented)
        if principal is None:
            raise AuthenticationError("the API key is not valid (unknown or revoked)")
        request.state.principal = principal
        if state.should_touch(principal.key_id):
            resolution = timedelta(seconds=state.settings.auth.last_used_resolution_s)
            try:
                with database.write() as session:
                    touch(session, principal.key_id, resolution)
            except OperationalError as exc:  # bookkeeping: never fail a request over it
                log.info("last_used_at of key %s not written: %s", principal.prefix, exc.orig)
    if not principal.allows(scope):
        raise ForbiddenError(f"this API key lacks the '{scope.value}' scope")
    limiter = state.limiters.get(scope)
    if limiter is not None:
        wait = limiter.wait_time((principal.key_id, scope))
        if wait > 0:
            raise RateLimitedError(f"too many {scope.value} requests with this key", wait)
    return principal


class _ScopeRequirement:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def __call__(self, request: Request) -> Principal:
        return authorize(request, self.scope)


@cache
def require_scope(scope: str) -> _ScopeRequirement:
    """A dependency that admits keys holding ``scope`` (``admin`` holds them all) and returns
    the :class:`Principal`; one object per scope, so FastAPI runs it once per request."""
    return _ScopeRequirement(Scope(scope))


def _declares_scope(route: APIRoute) -> bool:
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, _ScopeRequirement):
            return True
        pending.extend(dependant.dependencies)
    return False


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def default_guard(
    request: Request,
    # Declared so the OpenAPI schema shows both ways to send a key ("Authorize" in /docs).
    _bearer_credentials: HTTPAuthorizationCredentials | None = Security(_bearer),
    _header_key: str | None = Security(_api_key),
) -> None:
    """App-wide dependency: a route that declares no scope needs ``read`` to be read and
    ``admin`` for anything else."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    state: AuthState = request.app.state.auth
    declared = state.declared.get(id(route))
    if declared is None:
        declared = state.declared[id(route)] = _declares_scope(route)
    if declared or route.path in PUBLIC_PATHS:
        return
    if route.path == METRICS_PATH:
        if state.settings.auth.metrics_require_key:
            authorize(request, Scope.READ)
        return
    authorize(request, Scope.READ if request.method in _SAFE_METHODS else Scope.ADMIN)


def check_models(principal: Principal, models: Iterable[object]) -> None:
    """Refuse the whole request when a model-restricted key names a model it may not write."""
    refused = sorted({m for m in models if isinstance(m, str) and not principal.may_write(m)})
    if refused:
        shown = ", ".join(repr(m[:128]) for m in refused[:5])
        raise ForbiddenError(f"this API key may not write events of model(s) {shown}")
