"""Request body limits for every route, enforced while the body streams in (pure ASGI).

The limit depends on the route: reference uploads get ``reference.max_bytes``, ingest gets
``ingest.max_request_bytes``, every other body ``auth.max_json_bytes``. A declared
``Content-Length`` over the limit is refused before a byte is read; a body without one (chunked)
is spooled to a temporary file as it arrives (in memory up to 1 MiB) and refused at the first byte
past the limit, so an oversized body never grows the process by more than the spool's memory
part; a body within the limit is then handed to the application from the spool.

JSON bodies of the routes FastAPI parses (not ingest, whose contract only admits scalar values
and whose decoder turns runaway nesting into a 422, nor uploads) are also checked for nesting
depth before parsing, so no parser recursion or validator walks a 10 MB ``[[[[...``.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from typing import IO

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from driftline.core.settings import Settings

__all__ = ["BodyLimitMiddleware", "json_depth"]

_REFERENCE_UPLOAD = re.compile(r"^/v1/models/[^/]+/versions/[^/]+/reference$")
_INGEST = frozenset({"/v1/events", "/v1/labels"})
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_SPOOL_IN_MEMORY = 1024 * 1024  # a chunked body beyond this waits on disk until it is complete
_REPLAY_CHUNK = 64 * 1024


def json_depth(body: bytes) -> int:
    """Deepest nesting of arrays and objects in ``body`` (strings do not count).

    >>> json_depth(b'{"a": [1, {"b": "[[[["}]}'), json_depth(b"[]"), json_depth(b"3")
    (3, 1, 0)
    """
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


class _TooLarge(Exception):
    """Raised into the application when the body passes the limit (it then gets 413)."""


@dataclass
class _Progress:
    received: int = 0
    exceeded: bool = False
    started: bool = False


def _error(detail: str, field: str, reason: str) -> bytes:
    return json.dumps({"detail": detail, "problems": [{"field": field, "reason": reason}]}).encode()


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def _limit(self, path: str) -> int:
        if _REFERENCE_UPLOAD.match(path):
            return self.settings.reference.max_bytes
        if path in _INGEST:
            return self.settings.ingest.max_request_bytes
        return self.settings.auth.max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self._limit(path)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        too_large = _error(
            "the request body is too large", "$", f"is larger than {limit} bytes for this route"
        )
        if declared.isdigit() and int(declared) > limit:
            await _respond(send, 413, too_large)
            return
        spool: IO[bytes] | None = None
        if not declared.isdigit():
            spool, outcome = await _spool(receive, limit)
            if outcome == "too_large":
                await _respond(send, 413, too_large)
            if spool is None:
                return  # too large, or the client went away
            receive = _replay(spool, receive)
        try:
            await self._route(scope, receive, send, path, headers, limit, too_large)
        finally:
            if spool is not None:
                spool.close()

    async def _route(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        path: str,
        headers: dict[bytes, bytes],
        limit: int,
        too_large: bytes,
    ) -> None:
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype.endswith(b"json") and path not in _INGEST and not _REFERENCE_UPLOAD.match(path):
            await self._json(scope, receive, send, limit, too_large)
            return
        state = _Progress()

        async def capped_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state.received += len(message.get("body", b""))
                if state.received > limit:
                    state.exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if state.exceeded:  # replace whatever the app answers to a cut-off body
                if message["type"] == "http.response.start" and not state.started:
                    state.started = True
                    await _respond(send, 413, too_large)
                return
            state.started = state.started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, capped_receive, guarded_send)
        except _TooLarge:
            if not state.started:
                await _respond(send, 413, too_large)
        except Exception:
            if not state.exceeded:
                raise
            if not state.started:
                await _respond(send, 413, too_large)

    async def _json(
        self, scope: Scope, receive: Receive, send: Send, limit: int, too_large: bytes
    ) -> None:
        """Read the (capped) JSON body, check its depth, then hand it on in one message."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _respond(send, 413, too_large)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        del chunks
        cap = self.settings.auth.max_json_depth
        if json_depth(body) > cap:
            reason = f"nests arrays and objects more than {cap} levels deep"
            await _respond(send, 422, _error("the JSON body is nested too deeply", "$", reason))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # only http.disconnect is left
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _spool(receive: Receive, limit: int) -> tuple[IO[bytes] | None, str]:
    """The whole body of a request without ``Content-Length``, or why there is none."""
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - closed by the caller
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            spool.close()
            return None, "disconnected"
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            spool.close()
            return None, "too_large"
        spool.write(chunk)
        more = message.get("more_body", False)
    spool.seek(0)
    return spool, "complete"


def _replay(spool: IO[bytes], receive: Receive) -> Receive:
    """Hand a spooled body on in chunks, then whatever else the client sends (a disconnect)."""
    done = False

    async def replay() -> Message:
        nonlocal done
        if done:
            return await receive()
        chunk = spool.read(_REPLAY_CHUNK)
        more = len(chunk) == _REPLAY_CHUNK
        done = not more
        return {"type": "http.request", "body": chunk, "more_body": more}

    return replay


async def _respond(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if status == 413:
        headers.append((b"connection", b"close"))  # the rest of the body is never read
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
