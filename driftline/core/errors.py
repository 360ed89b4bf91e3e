"""One exception hierarchy for the whole service.

Each error subclasses a built-in so callers that do not know Driftline can still catch it
(``LookupError``, ``ValueError``, ``ConnectionError``). The API maps them to HTTP status codes in
one place (:mod:`driftline.api.errors`); domain code never raises HTTP exceptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AuthenticationError",
    "ConflictError",
    "DriftlineError",
    "FieldProblem",
    "ForbiddenError",
    "InvalidInputError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "SchemaNotCurrentError",
    "UnavailableError",
]


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """What is wrong with one field (or column) of some input."""

    field: str
    reason: str


class DriftlineError(Exception):
    """Base class of every error Driftline raises on purpose."""


class NotFoundError(DriftlineError, LookupError):
    """The named thing does not exist."""


class ConflictError(DriftlineError):
    """The request contradicts the current state (already exists, still has data, ...)."""


class InvalidInputError(DriftlineError, ValueError):
    """The input is malformed; ``problems`` names each field at fault."""

    def __init__(self, message: str, problems: Sequence[FieldProblem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class PayloadTooLargeError(InvalidInputError):
    """The input exceeds a size limit."""


class UnavailableError(DriftlineError, ConnectionError):
    """A dependency (the database, the broker) cannot be used right now."""


class SchemaNotCurrentError(UnavailableError):
    """The database schema is not at the revision this code expects."""


class AuthenticationError(DriftlineError, PermissionError):
    """No credentials, or credentials that match no active API key."""


class ForbiddenError(DriftlineError, PermissionError):
    """Valid credentials that do not grant what was asked (scope, model)."""


class RateLimitedError(DriftlineError, RuntimeError):
    """Too many requests with one key; ``retry_after`` seconds until the next is allowed."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
