"""The semantic side: inner product over normalized vectors, filtered by allowed rows.

A record's row holds one L2-normalized vector per view (``indexer.storage.vectors``); the query
vector is repeated once per view, so the inner product is the sum of the views' cosines.

Small indexes are searched exactly, with numpy over the memory-mapped ``vectors.npy``. Large ones
(``data/vectors.json``) go through the IVF index written at build time, memory-mapped by faiss
(``IO_FLAG_MMAP_IFC``): its codes are 8-bit (a quarter of the floats, so a process that searches
all day keeps at most that much of it resident), and the candidates it returns, ``rerank`` times as
many as asked for, are re-scored with their float32 rows: the order is exact among them
(``benchmarks/README.md``: recall as with float IVF lists). A filter becomes a faiss bitmap selector;
when it allows only a small share of the records, or the probed lists hold too few allowed rows,
every list is probed, so a filtered search is complete and still fills its N results.

The few rows a search reads (candidates to re-score, rows to check) are read from the file,
not through the mapping (``indexer.storage.file_reads``), so they do not stay resident in the search process.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..indexer.storage import integrity
from ..indexer.storage.file_reads import read_rows
from ..indexer.storage.vectors import IVF, VECTORS, vector_settings

from .top import best_first


def _first_line(exc: Exception) -> str:
    """The gist of a faiss error, which starts with the C++ function and source line, then ``Error: …``."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0].rsplit("Error: ", 1)[-1] if lines else type(exc).__name__)[:120]


class VectorSide:
    """Inner-product search over one generation's vectors: exact (numpy over the memory-mapped rows),
    or through its IVF index (memory-mapped by faiss), re-scored exactly."""

    def __init__(self, generation: Path, ids: list[str], verify: Callable[[], object] | None = None, views: int = 1,
                 check: Callable[..., None] | None = None, row: dict[str, int] | None = None) -> None:
        """``ids``: the record id of each row (the record store's order, which the build wrote the vectors in),
        ``row`` their positions if the caller has them; ``verify`` runs before faiss reads the IVF file (its
        C++ reader trusts the bytes); ``views`` is how many vectors a row holds (the manifest's
        ``vectors.views``); ``check`` raises for rows that cannot be the build's (``integrity.check_vectors``):
        it sees the array's shape and, at open, all rows of a small index or a sample of a large one,
        and the rows each search returns."""
        self.generation = generation
        self.vectors = np.load(generation / VECTORS, mmap_mode="r", allow_pickle=False)
        self.ids = ids
        self.row = row if row is not None else {doc_id: i for i, doc_id in enumerate(self.ids)}
        self.dimension = int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0
        self.views = views
        self._check = check or (lambda rows, whole=False: None)
        self._check(self.vectors, whole=True)
        self._check(self._read(_sample(len(self.vectors))))
        self.approximate = None
        if (generation / IVF).exists():
            import faiss

            if verify:
                verify()
            self._faiss = faiss
            try:
                self.approximate = faiss.read_index(str(generation / IVF), faiss.IO_FLAG_MMAP_IFC)
            except RuntimeError as exc:  # faiss's C++ reader: an assertion on the bytes, as one line
                raise integrity.damaged(generation, IVF, f"faiss cannot read it: {_first_line(exc)}") from None
            if self.approximate.ntotal != len(self.vectors) or self.approximate.d != self.vectors.shape[1]:
                raise integrity.damaged(generation, IVF, f"{self.approximate.ntotal} vectors of {self.approximate.d} "
                                                         f"dimensions, not {self.vectors.shape}")
        settings = vector_settings()
        self.nprobe = settings["nprobe"]
        self.all_lists_below = settings["all_lists_when_allowed_below"]
        self.rerank = settings["rerank"]

    def vector_of(self, doc_id: str) -> np.ndarray:
        vector = self._read(np.array([self.row[doc_id]]))
        self._check(vector)
        return vector[0].copy()

    def centroid(self, doc_ids: list[str]) -> np.ndarray:
        """The mean of these records' vectors, views averaged: one query-sized vector (``feedback.rocchio``)."""
        rows = np.sort(np.array([self.row[doc_id] for doc_id in doc_ids], dtype=np.int64))
        matrix = self._read(rows)
        self._check(matrix)
        return matrix.reshape(len(rows), self.views, -1).mean(axis=(0, 1))

    def search(self, vector: np.ndarray, allowed: np.ndarray | None, limit: int,
               exclude: set[str] = frozenset()) -> list[tuple[str, float]]:
        """Ranked (id, similarity) pairs nearest to ``vector`` among ``allowed`` rows (a mask; None: all).

        The similarity is the mean of the views' cosines: a cosine, for a reader of ``--explain``."""
        if not self.ids or limit <= 0:
            return []
        keep = rows = None
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
        if self.approximate is None:
            scores, found = self._exact(query, rows, k)
            self._check(self._read(np.sort(found)))
        else:
            scores, found = self._rescored(query, self._candidates(query, keep, k), k)
        return [(self.ids[r], float(s) / self.views) for r, s in zip(found, scores)]

    def _candidates(self, query: np.ndarray, keep: np.ndarray | None, k: int) -> np.ndarray:
        """Rows the IVF index finds nearest to ``query`` among the ``keep`` rows, ``rerank`` × ``k`` of them
        (fewer if fewer are allowed): from ``nprobe`` lists, or from all of them when the filter is
        narrow or the probed lists held too few."""
        faiss = self._faiss
        allowed = len(self.ids) if keep is None else int(keep.sum())
        wanted = min(self.rerank * k, allowed)
        bits = np.packbits(keep, bitorder="little") if keep is not None else None
        selector = faiss.IDSelectorBitmap(len(keep), faiss.swig_ptr(bits)) if keep is not None else None
        probes = [self.approximate.nlist]
        if allowed >= self.all_lists_below * len(self.ids):
            probes.insert(0, self.nprobe)
        for nprobe in probes:
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
            found = self.approximate.search(np.ascontiguousarray(query.reshape(1, -1)), wanted, params=params)[1][0]
            found = found[found >= 0]
            if len(found) >= wanted:
                break
        return found

    def _rescored(self, query: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best of ``rows`` by their exact inner product with ``query`` (ties: lower row first)."""
        rows = np.sort(rows)
        matrix = self._read(rows)
        self._check(matrix)
        scores = matrix @ query
        best = np.lexsort((rows, -scores))[:k]
        return scores[best], rows[best]

    def _read(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of ``rows`` (ascending), read from the file into a new array."""
        with integrity.reading(self.generation, VECTORS):
            return read_rows(self.vectors, rows)

    def _exact(self, query: np.ndarray, rows: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best rows by inner product (ties: lower row first), reading the rows in chunks."""
        count = len(self.ids) if rows is None else len(rows)
        scores = np.empty(count, dtype=np.float32)
        for start in range(0, count, CHUNK):
            part = self.vectors[start:start + CHUNK] if rows is None else self.vectors[rows[start:start + CHUNK]]
            scores[start:start + CHUNK] = part @ query
        best = best_first(scores, k)
        return scores[best], (best if rows is None else rows[best])


CHUNK = 8192  # rows multiplied at once: bounds the copy a filtered search makes
SAMPLE = 256  # rows checked at open in a large index


def _sample(count: int) -> np.ndarray:
    """Every row of a small index, else ``SAMPLE`` rows spread over it (first and last included)."""
    if count <= 4 * SAMPLE:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, SAMPLE).astype(np.int64))
