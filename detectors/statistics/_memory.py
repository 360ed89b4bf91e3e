"""Memory for the large arrays a profile keeps for its lifetime, in ordinary pages.

NumPy advises transparent huge pages (``madvise(MADV_HUGEPAGE)``) on every allocation of
4 MB or more. On hosts whose ``/sys/kernel/mm/transparent_hugepage/defrag`` is ``madvise``
(Debian's default), the first write to such memory can stall in synchronous compaction while
the kernel assembles a huge page (numpy/numpy#31590). A profile of a 1M x 70 numeric reference
keeps 560 MB of sorted copies, all written once right after allocation: on the benchmark
machine, sorting them into NumPy's memory cost 1.9 s of system time against 0.3 s into plain
private anonymous mappings (bench/RESULTS.md). Temporaries are left to NumPy: they are freed
and reused, so their pages are faulted in once per process.

>>> copy = sorted_copy(np.array([3.0, 1.0, 2.0]))
>>> copy.tolist(), copy.flags.writeable
([1.0, 2.0, 3.0], True)
"""

from __future__ import annotations

import mmap

import numpy as np

from detectors.statistics._checks import FloatArray

__all__ = ["MIN_MAPPED_BYTES", "kept_copy", "kept_empty", "sorted_copy"]

# NumPy's own huge-page threshold: smaller arrays come from the allocator's heap anyway.
MIN_MAPPED_BYTES = 1 << 22


def kept_empty(size: int) -> FloatArray:
    """An uninitialised float64 array of ``size`` values; large ones in their own mapping."""
    if size * 8 < MIN_MAPPED_BYTES or not hasattr(mmap, "MAP_PRIVATE"):  # (not on Windows)
        return np.empty(size, dtype=np.float64)
    # A private anonymous mapping, unmapped when the last array viewing it is freed; populated
    # at once (every page is about to be written), which saves a trap per page.
    flags = mmap.MAP_PRIVATE | getattr(mmap, "MAP_POPULATE", 0)
    mapping = mmap.mmap(-1, size * 8, flags=flags)
    return np.frombuffer(mapping, dtype=np.float64)


def kept_copy(values: FloatArray) -> FloatArray:
    """A writable copy of a one-dimensional float64 array, for keeping."""
    copy = kept_empty(values.size)
    copy[...] = values
    return copy


def sorted_copy(values: FloatArray) -> FloatArray:
    """``np.sort(values)`` of a one-dimensional float64 array, for keeping."""
    copy = kept_copy(values)
    copy.sort()
    return copy
