"""Keep freed memory in the process's heap between queries.

A query allocates a few arrays of one number per record (scores, masks, sort keys: about 2 MB at
100k records) and frees them. With glibc's default thresholds, arrays that size are mapped fresh
from the kernel and handed back on free, so every query pays for faulting them in again: 1.3 ms of a
3.3 ms bm25 query at 100k records (``benchmarks/README.md``). Indexes that parsed a large record
store at open raised glibc's dynamic thresholds by accident; a store that is read, not loaded, never
does, so we set them: allocations under 32 MB come from the heap, and up to 64 MB of freed memory
stays there. Elsewhere than glibc this does nothing.
"""
from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
HEAP_ALLOCATIONS_BELOW = 32 << 20
FREED_KEPT = 64 << 20
_done = False


def keep_freed_memory() -> None:
    """Set glibc's thresholds once per process (see the module's docstring)."""
    global _done
    if _done:
        return
    _done = True
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, HEAP_ALLOCATIONS_BELOW)
    mallopt(M_TRIM_THRESHOLD, FREED_KEPT)
