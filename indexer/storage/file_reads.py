"""Parts of a memory-mapped ``.npy`` array, read through its file rather than through the mapping.

A search reads scattered parts of large arrays: a term's postings, the vectors of its candidates.
Touching them through the mapping leaves the kernel's fault-around (64 KB about each touched page,
a whole folio for freshly written files) mapped in the process, so a process that answers queries
all day ends up holding most of those files in its RSS. ``os.pread`` copies only the bytes asked for,
from the page cache, into an array the process frees when done (``benchmarks/README.md``: the peak
RSS of a searching process at 100k records). Arrays that are not memory-mapped are sliced as usual.
"""
from __future__ import annotations

import mmap
import os
import weakref

import numpy as np

_descriptors: dict[int, int] = {}  # id of a mapped array -> a descriptor of its file, closed with the array


SMALL_SPAN = 64 * 1024  # bytes: a span this small is read through the file, a larger one through the map


def read_span(array: np.ndarray, start: int, end: int) -> np.ndarray:
    """``array[start:end]`` (along the first axis): through the file when it is small (the fault-around
    would map more than it reads), through the map when it is larger (its pages are really used, and
    copying them costs more than mapping them: bm25 p50 +0.6 ms at 100k records when every span was copied)."""
    if not _mapped(array) or (end - start) * array.strides[0] > SMALL_SPAN:
        return array[start:end]
    start, end = min(start, len(array)), min(max(start, end), len(array))
    return _read(array, [(start, end)])


def read_rows(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``array[rows]`` (rows ascending), as a new array: one read per row."""
    if not _mapped(array):
        return array[rows]
    return _read(array, [(int(row), int(row) + 1) for row in rows])


def _mapped(array: np.ndarray) -> bool:
    """Is ``array`` a whole mapped file (not a view of one, whose ``offset`` numpy leaves at its parent's)?"""
    return isinstance(array, np.memmap) and isinstance(array.base, mmap.mmap) and array.filename is not None


def _read(array: np.memmap, spans: list[tuple[int, int]]) -> np.ndarray:
    """The rows of ``spans`` (start, end) one after another, each read straight into the new array."""
    out = np.empty((sum(end - start for start, end in spans), *array.shape[1:]), dtype=array.dtype)
    if not out.size:
        return out
    row_bytes = array.strides[0]  # a whole mapped file is C-contiguous
    buffer, descriptor, at = memoryview(out).cast("B"), _descriptor(array), 0
    for start, end in spans:
        size = (end - start) * row_bytes
        if os.preadv(descriptor, [buffer[at:at + size]], array.offset + start * row_bytes) != size:
            raise OSError(f"{os.path.basename(array.filename)} is shorter than when it was opened")
        at += size
    return out


def _descriptor(array: np.memmap) -> int:
    key = id(array)
    descriptor = _descriptors.get(key)
    if descriptor is None:
        descriptor = _descriptors[key] = os.open(array.filename, os.O_RDONLY)
        weakref.finalize(array, _close, key, descriptor)
    return descriptor


def _close(key: int, descriptor: int) -> None:
    _descriptors.pop(key, None)
    os.close(descriptor)
