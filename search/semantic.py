"""The semantic side: faiss inner product over normalized vectors, filtered by allowed ids.

A record's row holds one L2-normalized vector per view (``indexer.vectors``); the query
vector is repeated once per view, so the inner product is the sum of the views' cosines. Small indexes are
searched exactly; large ones (``data/vectors.json``) through the IVF index written at
build time, except when a filter allows only a small share of the records, where the
exact search over those rows is both faster and complete (and whenever the probed lists
hold fewer allowed rows than asked for). Filters become a faiss
``IDSelectorBatch`` so a filtered search still fills its N results.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from indexer.vectors import IVF, load_vectors, vector_settings


class VectorSide:
    """Inner-product search over one generation's vectors: exact (flat), or through its IVF index."""

    def __init__(self, generation: Path, verify: Callable[[], object] | None = None, views: int = 1) -> None:
        """``verify`` runs before faiss reads the IVF file (its C++ reader trusts the bytes); ``views``
        is how many vectors a row holds (the manifest's ``vectors.views``)."""
        import faiss

        self._faiss = faiss
        self.vectors, keys = load_vectors(generation)
        self.ids = [k["id"] for k in keys]
        self.row = {doc_id: i for i, doc_id in enumerate(self.ids)}
        self.dimension = int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0
        self.views = views
        self.index = faiss.IndexFlatIP(self.dimension)
        if len(self.ids):
            self.index.add(np.ascontiguousarray(self.vectors, dtype=np.float32))
        self.approximate = None
        if (generation / IVF).exists():
            if verify:
                verify()
            self.approximate = faiss.read_index(str(generation / IVF))
        settings = vector_settings()
        self.nprobe = settings["nprobe"]
        self.exact_below = settings["exact_when_allowed_below"]

    def vector_of(self, doc_id: str) -> np.ndarray:
        return self.vectors[self.row[doc_id]]

    def search(self, vector: np.ndarray, allowed: set[str] | None, limit: int,
               exclude: set[str] = frozenset()) -> list[tuple[str, float]]:
        """Ranked (id, similarity) pairs nearest to ``vector`` among ``allowed`` ids (None: all).

        The similarity is the mean of the views' cosines: a cosine, for a reader of ``--explain``."""
        if not self.ids or limit <= 0:
            return []
        rows = None
        if allowed is not None or exclude:
            pool = allowed if allowed is not None else self.row.keys()
            rows = np.array(sorted(self.row[i] for i in pool if i in self.row and i not in exclude), dtype=np.int64)
            if not len(rows):
                return []
        k = min(limit, len(self.ids) if rows is None else len(rows))
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if query.shape[1] * self.views == self.dimension and self.views > 1:
            query = np.tile(query, self.views)  # one copy per view
        query = np.ascontiguousarray(query)
        selector = self._faiss.IDSelectorBatch(rows) if rows is not None else None
        found = None
        if self.approximate is not None and (rows is None or len(rows) >= self.exact_below * len(self.ids)):
            params = self._faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)
            scores, found = self.approximate.search(query, k, params=params)
            if (found[0] < 0).any():  # the probed lists held fewer allowed rows than k
                found = None
        if found is None:
            params = self._faiss.SearchParameters(sel=selector) if selector is not None else None
            scores, found = self.index.search(query, k, params=params)
        return [(self.ids[r], float(s) / self.views) for r, s in zip(found[0], scores[0]) if r >= 0]
