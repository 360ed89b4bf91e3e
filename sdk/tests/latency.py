"""Measuring whether a call *blocked*, on a machine where other processes compete for the CPU.

A call's wall time includes time the OS gave to other processes. A call slowed by the SDK itself
(a lock, the worker holding the GIL, a garbage-collection pass over queued events) has no
involuntary context switch of the calling thread during it; a call preempted by the OS has one.
Only the former counts.
"""

from __future__ import annotations

import resource
import time
from typing import Callable, List

LIMIT_S = 0.001


def _involuntary() -> int:
    return resource.getrusage(resource.RUSAGE_THREAD).ru_nivcsw


def blocked_calls(call: Callable[[], object], calls: int) -> List[float]:
    """Wall times (s) of the calls over ``LIMIT_S`` that the OS did not preempt."""
    blocked = []
    clock = time.perf_counter
    for _ in range(calls):
        switches = _involuntary()
        started = clock()
        call()
        elapsed = clock() - started
        if elapsed > LIMIT_S and _involuntary() == switches:
            blocked.append(elapsed)
    return blocked


def fewest_blocked(call: Callable[[], object], calls: int, rounds: int = 5) -> List[float]:
    """The quietest of ``rounds`` rounds: a stall of our own recurs in every round, while the
    worker thread being preempted while it holds the GIL (which makes a caller wait) does not."""
    results = [blocked_calls(call, calls // rounds) for _ in range(rounds)]
    return min(results, key=len)
