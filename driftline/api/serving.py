"""The API's uvicorn server, stopping the way ``driftline up`` and ``driftline api`` need."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn

__all__ = ["Server"]


class Server(uvicorn.Server):
    """uvicorn's server, minus raising the stop signal again once it has shut down.

    After a graceful shutdown uvicorn restores the default SIGTERM handler and raises the signal
    again, which ends the process on the spot: the caller's own cleanup (under ``driftline up``,
    stopping the scheduler and letting the collector commit its batch and leave its group)
    never ran, and the exit status was -15. Here the caller finishes its shutdown and the
    process exits 0, as ``driftline collector`` and ``driftline scheduler`` do.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                # A private list of uvicorn's (0.29 and later); without it there is nothing to undo.
                captured = getattr(self, "_captured_signals", None)
                if isinstance(captured, list):
                    captured.clear()
