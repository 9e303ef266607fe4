"""Compressed copies of test data in every codec the engine reads (gzip, zstd, bzip2, xz), made
with the standard library and pyarrow, never with the engine itself."""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable

import pyarrow as pa


def zstd(data: bytes) -> bytes:
    out = pa.BufferOutputStream()
    with pa.CompressedOutputStream(out, "zstd") as stream:
        stream.write(data)
    return bytes(out.getvalue().to_pybytes())


CODECS: dict[str, Callable[[bytes], bytes]] = {
    "gz": gzip.compress,
    "zst": zstd,
    "bz2": bz2.compress,
    "xz": lzma.compress,
}


def two_members(data: bytes, suffix: str) -> bytes:
    """Two members/frames/streams, as `cat a.gz b.gz` makes: a reader must read both."""
    half = data.rfind(b"\n", 0, len(data) // 2) + 1
    return CODECS[suffix](data[:half]) + CODECS[suffix](data[half:])
