"""A field's counts stored once beside the summed weights' postings, where that is smaller.

Every field's (record, term) pairs are among its kind's summed postings (``term_weights.summed``: the
union of the fields' pairs, each with a positive weight when the field's boost is positive), so a field
can keep its counts as one unsigned array aligned with ``<kind>.rows.npy`` (0 where the record does not
have the term in that field) instead of a CSC matrix of its own (int32 rows and counts): ``n`` bytes
against ``5·nnz`` at uint8. That is smaller for the fields that hold most of their kind's pairs (at 100k
synthetic records ``goal_ngrams``, 131 MB of rows and 33 MB of counts, becomes 34 MB; ``goal`` 50 MB
becomes 11 MB) and larger for the others, which keep their CSC files (``name_ngrams``, whose rows the
short-query name rule reads a column at a time, is one of them). ``write_counts`` chooses per field.

File: ``<kind>.<field>.counts.npy`` in ``terms/``. ``FieldCounts`` reads either form and gives what a
CSC matrix gives (``indptr``, ``indices``, ``data``, made on first use for an aligned field: syntax
queries and rebuilds read every pair of a field anyway) and one column's rows (``column_rows``).
"""
from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import numpy as np

from .file_reads import read_span
from .integrity import damaged, reading


def aligned_file(kind: str, field: str) -> str:
    """The file of a field's counts aligned with its kind's summed postings, in ``terms/``."""
    return f"{kind}.{field}.counts.npy"


def aligned_counts(kind_indptr: np.ndarray, kind_rows: np.ndarray, matrix, n_records: int,
                   dtype: np.dtype, chunk: int = 1 << 22) -> np.ndarray | None:
    """The counts of ``matrix`` (CSC, sorted rows) at the positions of the kind's postings; None when a pair
    of the field is not among them (a field boosted 0 is not summed) — it then keeps its own CSC files.

    Matched ``chunk`` postings of the kind at a time (whole columns): one (column, row) key array for all of
    them took 8 bytes a posting three times over, 8 GB at a million records.
    """
    columns = len(kind_indptr) - 1
    counts = np.zeros(len(kind_rows), dtype=dtype)
    start = 0
    while start < columns:
        end = int(np.searchsorted(kind_indptr, int(kind_indptr[start]) + chunk, side="right")) - 1
        end = min(columns, max(start + 1, end))
        k0, k1 = int(kind_indptr[start]), int(kind_indptr[end])
        f0, f1 = int(matrix.indptr[start]), int(matrix.indptr[end])
        kind_keys = _keys(kind_indptr[start:end + 1], kind_rows[k0:k1], start, n_records)
        field_keys = _keys(matrix.indptr[start:end + 1], matrix.indices[f0:f1], start, n_records)
        at = np.searchsorted(kind_keys, field_keys)
        if len(at) and (at.max() >= len(kind_keys) or not np.array_equal(kind_keys[at], field_keys)):
            return None
        counts[k0 + at] = matrix.data[f0:f1]
        start = end
    return counts


def _keys(indptr: np.ndarray, rows: np.ndarray, first_column: int, n_records: int) -> np.ndarray:
    """column × n_records + row of each posting of the columns ``indptr`` spans (ascending in CSC order)."""
    columns = np.arange(first_column, first_column + len(indptr) - 1, dtype=np.int64)
    keys = np.repeat(columns, np.diff(indptr))
    keys *= n_records  # in place: one int64 array a chunk, not three
    keys += rows
    return keys


def smaller_aligned(nnz: int, kind_nnz: int, dtype: np.dtype) -> bool:
    """Is the aligned array smaller than the field's own CSC rows and counts?"""
    return kind_nnz * dtype.itemsize < nnz * (4 + dtype.itemsize)


class FieldCounts:
    """One field's counts, from its CSC files (``indptr``, ``indices``, ``data``) or aligned with its kind's
    summed postings (``kind``: that kind's ``indptr`` and ``rows``, memory-mapped; ``counts`` aligned)."""

    def __init__(self, indptr=None, indices=None, data=None, *, kind=None, counts=None,
                 generation: Path | None = None, files: tuple[str, str] = ("", "")) -> None:
        """``files``: the names (in ``terms/``) of the arrays of its rows and of its counts, for errors."""
        self._csc = (indptr, indices, data) if kind is None else None
        self._kind, self._counts = kind, counts
        self._generation, self.files = generation, files

    def _reading(self):
        return reading(self._generation, f"terms/{self.files[1]}") if self._generation is not None else nullcontext()

    def _unpacked(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._csc is None:
            kind_indptr, kind_rows = self._kind
            with self._reading():
                counts = np.asarray(self._counts)
                if counts.dtype.kind != "u" or len(counts) != len(kind_rows):
                    why = "its counts are not of the type or length goalsearch writes"
                    if self._generation is None:
                        raise ValueError(f"{self.files[1]}: {why}")
                    raise damaged(self._generation, f"terms/{self.files[1]}", why)
                present = counts != 0
                before = np.concatenate([[0], np.cumsum(present, dtype=np.int64)])
                indptr = before[np.asarray(kind_indptr)]
                if before[-1] <= np.iinfo(np.int32).max:  # the pointers scipy (and the CSC files) would have
                    indptr = indptr.astype(np.int32)
                self._csc = (indptr, np.asarray(kind_rows)[present], counts[present])
        return self._csc

    @property
    def aligned(self) -> bool:
        return self._kind is not None

    @property
    def indptr(self) -> np.ndarray:
        return self._unpacked()[0]

    @property
    def indices(self) -> np.ndarray:
        return self._unpacked()[1]

    @property
    def data(self) -> np.ndarray:
        return self._unpacked()[2]

    def column_rows(self, col: int) -> np.ndarray:
        """The rows that have term ``col`` in this field (sorted), reading only that column."""
        if self._csc is not None:
            indptr, indices, _ = self._csc
            return np.asarray(indices[int(indptr[col]):int(indptr[col + 1])])
        kind_indptr, kind_rows = self._kind
        start, end = int(kind_indptr[col]), int(kind_indptr[col + 1])
        with self._reading():
            return read_span(kind_rows, start, end)[read_span(self._counts, start, end) != 0]
