"""How a profile is stored: a JSON header, then each sorted numeric column as packed byte planes.

A sorted float64 column changes slowly in its high bytes (sign, exponent, leading mantissa) and
looks random in its low ones. Splitting the values into eight planes, one per byte position,
gives the compressor long runs of nearly equal bytes; Zstandard at level 1 then stores a sorted
normal sample in 61% of its size, where the zlib stream of ``np.savez_compressed`` (the format
before this one, still read) needed 70-74%, and it runs far faster both ways (1M values: 14 ms
to pack, 9 ms to unpack, against 434 ms and 52 ms). That matters because every detection run
unpacks the stored profile it compares with. The codec is pyarrow's, already a dependency.

Layout: ``MAGIC``, the header's length (8 bytes, little-endian), the header (UTF-8 JSON: the
caller's metadata plus ``columns``, one ``[offset, length, values]`` per numeric column, offsets
counted from the end of the header), then the packed columns back to back.

>>> values = np.sort(np.random.default_rng(0).normal(size=5000))
>>> data = encode({"n_bins": 10}, [values])
>>> is_encoded(data), is_encoded(b"PK\\x03\\x04")
(True, False)
>>> meta, columns = decode(data)
>>> meta["n_bins"], bool(np.array_equal(columns[0], values))
(10, True)
"""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from detectors.statistics._checks import FloatArray
from detectors.statistics._memory import kept_empty

__all__ = ["MAGIC", "decode", "encode", "is_encoded"]

MAGIC = b"driftline-profile/byteplanes-zstd1\n"

# Values per block of the byte transposition: a block's 8 planes stay in the CPU cache.
_BLOCK = 1 << 15


def _codec() -> pa.Codec:
    return pa.Codec("zstd", compression_level=1)


def _pack(values: FloatArray) -> bytes:
    size = values.size
    planes = np.empty((8, size), dtype=np.uint8)
    # Little-endian whatever the machine, so a profile stored by one host loads on any other.
    as_bytes = np.ascontiguousarray(values, dtype="<f8").view(np.uint8).reshape(size, 8)
    for begin in range(0, size, _BLOCK):
        planes[:, begin : begin + _BLOCK] = as_bytes[begin : begin + _BLOCK].T
    packed: bytes = _codec().compress(planes, asbytes=True)
    return packed


def _unpack(packed: memoryview, size: int) -> FloatArray:
    raw = _codec().decompress(packed, decompressed_size=size * 8, asbytes=True)
    planes = np.frombuffer(raw, dtype=np.uint8).reshape(8, size)
    values = kept_empty(size)  # kept by the profile for its lifetime
    as_bytes = values.view(np.uint8).reshape(size, 8)
    for begin in range(0, size, _BLOCK):
        as_bytes[begin : begin + _BLOCK] = planes[:, begin : begin + _BLOCK].T
    if sys.byteorder == "big":
        values.byteswap(inplace=True)  # stored little-endian
    return values


def is_encoded(data: bytes) -> bool:
    """Whether ``data`` is in this format (older profiles are ``.npz`` archives)."""
    return data.startswith(MAGIC)


def encode(meta: Mapping[str, Any], columns: Sequence[FloatArray]) -> bytes:
    """``meta`` (JSON-serialisable, without a ``columns`` key) and the float64 columns."""
    packed = [_pack(column) for column in columns]
    offsets = np.cumsum([0] + [len(p) for p in packed]).tolist()
    index = [
        [offset, len(p), int(c.size)]
        for offset, p, c in zip(offsets, packed, columns, strict=False)  # offsets: one more
    ]
    header = json.dumps({**meta, "columns": index}).encode()
    return b"".join([MAGIC, struct.pack("<Q", len(header)), header, *packed])


def decode(data: bytes) -> tuple[dict[str, Any], list[FloatArray]]:
    """The metadata and the columns ``encode`` stored, each in its own writable array."""
    if not is_encoded(data):
        raise ValueError("not a profile in the byte-plane format")
    view = memoryview(data)
    start = len(MAGIC) + 8
    (length,) = struct.unpack_from("<Q", data, len(MAGIC))
    meta: dict[str, Any] = json.loads(bytes(view[start : start + length]))
    body = start + length
    columns = [
        _unpack(view[body + offset : body + offset + size_bytes], values)
        for offset, size_bytes, values in meta.pop("columns")
    ]
    return meta, columns
