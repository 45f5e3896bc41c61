"""The semantic side: faiss inner product over normalized vectors, filtered by allowed ids.

A record's row holds one L2-normalized vector per view (``indexer.vectors``); the query
vector is repeated once per view, so the inner product is the sum of the views' cosines. Small indexes are
searched exactly; large ones (``data/vectors.json``) through the IVF index written at
build time, except when a filter allows only a small share of the records, where the
exact search over those rows is both faster and complete (and whenever the probed lists
hold fewer allowed rows than asked for). Filters become a faiss
``IDSelectorBatch`` so a filtered search still fills its N results.

Both files are memory-mapped (``vectors.npy`` by numpy, ``vectors.ivf`` by faiss's
``IO_FLAG_MMAP_IFC``): opening copies nothing, and a search reads the pages it touches.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from indexer.vectors import IVF, VECTORS, vector_settings


class VectorSide:
    """Inner-product search over one generation's vectors: exact (numpy over the memory-mapped rows),
    or through its IVF index (memory-mapped by faiss)."""

    def __init__(self, generation: Path, ids: list[str], verify: Callable[[], object] | None = None, views: int = 1,
                 check: Callable[..., None] | None = None) -> None:
        """``ids``: the record id of each row (the record store's order, which the build wrote the vectors in);
        ``verify`` runs before faiss reads the IVF file (its C++ reader trusts the bytes); ``views`` is how
        many vectors a row holds (the manifest's ``vectors.views``); ``check`` raises for rows that
        cannot be the build's (``integrity.check_vectors``): it sees the array's shape and, at open, all
        rows of a small index or a sample of a large one, and the rows each search returns."""
        self.vectors = np.load(generation / VECTORS, mmap_mode="r", allow_pickle=False)
        self.ids = ids
        self.row = {doc_id: i for i, doc_id in enumerate(self.ids)}
        self.dimension = int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0
        self.views = views
        self._check = check or (lambda rows, whole=False: None)
        self._check(self.vectors, whole=True)
        self._check(self.vectors[_sample(len(self.vectors))])
        self.approximate = None
        if (generation / IVF).exists():
            import faiss

            if verify:
                verify()
            self._faiss = faiss
            self.approximate = faiss.read_index(str(generation / IVF), faiss.IO_FLAG_MMAP_IFC)
        settings = vector_settings()
        self.nprobe = settings["nprobe"]
        self.exact_below = settings["exact_when_allowed_below"]

    def vector_of(self, doc_id: str) -> np.ndarray:
        row = self.row[doc_id]
        vector = np.array(self.vectors[row:row + 1])
        self._check(vector)
        return vector[0]

    def search(self, vector: np.ndarray, allowed: np.ndarray | None, limit: int,
               exclude: set[str] = frozenset()) -> list[tuple[str, float]]:
        """Ranked (id, similarity) pairs nearest to ``vector`` among ``allowed`` rows (a mask; None: all).

        The similarity is the mean of the views' cosines: a cosine, for a reader of ``--explain``."""
        if not self.ids or limit <= 0:
            return []
        rows = None
        if allowed is not None or exclude:
            keep = np.ones(len(self.ids), dtype=bool) if allowed is None else allowed.copy()
            keep[[self.row[i] for i in exclude if i in self.row]] = False
            rows = np.flatnonzero(keep)
            if not len(rows):
                return []
        k = min(limit, len(self.ids) if rows is None else len(rows))
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if len(query) * self.views == self.dimension and self.views > 1:
            query = np.tile(query, self.views)  # one copy per view
        found = None
        if self.approximate is not None and (rows is None or len(rows) >= self.exact_below * len(self.ids)):
            selector = self._faiss.IDSelectorBatch(rows) if rows is not None else None
            params = self._faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)
            scores, found = self.approximate.search(np.ascontiguousarray(query.reshape(1, -1)), k, params=params)
            scores, found = scores[0], found[0]
            if (found < 0).any():  # the probed lists held fewer allowed rows than k
                found = None
        if found is None:
            scores, found = self._exact(query, rows, k)
        self._check(self.vectors[np.sort(found)])
        return [(self.ids[r], float(s) / self.views) for r, s in zip(found, scores)]

    def _exact(self, query: np.ndarray, rows: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best rows by inner product (ties: lower row first), reading the rows in chunks."""
        count = len(self.ids) if rows is None else len(rows)
        scores = np.empty(count, dtype=np.float32)
        for start in range(0, count, CHUNK):
            part = self.vectors[start:start + CHUNK] if rows is None else self.vectors[rows[start:start + CHUNK]]
            scores[start:start + CHUNK] = part @ query
        best = np.argpartition(-scores, k - 1)[:k] if k < count else np.arange(count)
        best = best[np.lexsort((best, -scores[best]))]
        return scores[best], (best if rows is None else rows[best])


CHUNK = 8192  # rows multiplied at once: bounds the copy a filtered search makes
SAMPLE = 256  # rows checked at open in a large index


def _sample(count: int) -> np.ndarray:
    """Every row of a small index, else ``SAMPLE`` rows spread over it (first and last included)."""
    if count <= 4 * SAMPLE:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, SAMPLE).astype(np.int64))
