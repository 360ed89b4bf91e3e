"""Per-feature work of one run (or one profile) spread over the machine's cores in threads.

Features are independent, and the heavy part of a numeric feature (sorting, binary searches,
elementwise passes) runs in NumPy with the GIL released, so threads overlap it with each other
and with the categorical features, whose hashing holds the GIL. Small jobs stay in the calling
thread: below ``MIN_PARALLEL_VALUES`` values in total, starting threads costs more than it saves.

>>> map_features(lambda x: x * 2, [(1, True), (2, False), (3, True)], values=10)
[2, 4, 6]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["MIN_PARALLEL_VALUES", "map_features", "worker_count"]

T = TypeVar("T")
R = TypeVar("R")

# About 5 ms of work on one core: the point where a second thread starts to pay.
MIN_PARALLEL_VALUES = 200_000


# A container's CPU quota is not in its affinity mask: a 1-CPU pod on a 64-core node would see 64.
MAX_WORKERS = 8


def worker_count() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it), at most
    ``MAX_WORKERS``."""
    if hasattr(os, "sched_getaffinity"):
        return min(len(os.sched_getaffinity(0)), MAX_WORKERS)
    return min(os.cpu_count() or 1, MAX_WORKERS)


def _interleaved(kinds: Sequence[bool]) -> list[int]:
    """Indices ordering GIL-releasing and GIL-holding items alternately, so that at any time
    each thread is more likely to hold work the other one can overlap with."""
    releasing = [i for i, releases in enumerate(kinds) if releases]
    holding = [i for i, releases in enumerate(kinds) if not releases]
    order: list[int] = []
    for k in range(max(len(releasing), len(holding))):
        order.extend(group[k] for group in (holding, releasing) if k < len(group))
    return order


def map_features(
    function: Callable[[T], R], items: Sequence[tuple[T, bool]], *, values: int
) -> list[R]:
    """``[function(item) for item, _ in items]``, in threads when ``values`` is large enough.

    Each item comes with whether its work mostly releases the GIL (numeric) or not
    (categorical); ``values`` is the total number of values the items will process. The
    results keep the order of ``items`` whatever order the threads finish in.
    """
    workers = min(worker_count(), len(items))
    if workers < 2 or values < MIN_PARALLEL_VALUES:
        return [function(item) for item, _ in items]
    order = _interleaved([releases for _, releases in items])
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="driftline-features") as pool:
        done = list(pool.map(function, [items[i][0] for i in order]))
    by_position = dict(zip(order, done, strict=True))
    return [by_position[i] for i in range(len(items))]
