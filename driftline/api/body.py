"""Reading request bodies with a size cap enforced while they stream in.

The cap is checked against ``Content-Length`` first and then against the bytes actually
received, so a client that lies about, or omits, the length is still cut off at the limit
instead of being buffered whole.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Message

from driftline.core.errors import FieldProblem, PayloadTooLargeError

__all__ = ["limited", "read_body"]


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        "the request body is too large",
        [FieldProblem("$", f"is larger than the limit of {limit} bytes for this route")],
    )


def limited(request: Request, limit: int) -> Request:
    """A view of ``request`` whose body raises :class:`PayloadTooLargeError` past ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large(limit)
        return message

    return Request(request.scope, receive)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes."""
    chunks = []
    async for chunk in limited(request, limit).stream():
        chunks.append(chunk)
    return b"".join(chunks)
