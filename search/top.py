"""The ``limit`` best of many scores, in one order whatever the limit.

``np.argpartition`` alone picks an arbitrary member among rows tied at the cut, so ``-n 10`` and ``-n 50``
could show different tenth hits with the same score. Every row tied with the last one kept is taken before
the sort, and ties go to the lower position (the index's row order).
"""
from __future__ import annotations

import numpy as np


def best_first(key: np.ndarray, limit: int) -> np.ndarray:
    """Positions of the ``limit`` largest values of ``key``, highest first, ties by lower position."""
    if limit <= 0 or not len(key):
        return np.empty(0, dtype=np.intp)
    if len(key) > limit:
        cut = np.partition(key, len(key) - limit)[len(key) - limit]  # the limit-th largest value
        chosen = np.flatnonzero(key >= cut)
    else:
        chosen = np.arange(len(key))
    return chosen[np.lexsort((chosen, -key[chosen]))][:limit]
