"""BM25 weights of the term matrices, summed over fields with their boosts, once at index time.

A plain query scores every term in every field it is searched in: five jieba fields and
two n-gram fields. Scattering one column per field and term cost most of a bm25 search at
100k records (16 ms p95). Since a record's score for a term is
``Σ_fields boost(field) × BM25(term, field)``, that sum is computed here when the index is
written: one column per term for the jieba words (``words``) and one for the n-grams
(``grams``), so a query term is one slice and one scatter. The per-field count matrices
stay (``terms``): syntax (``name:运维``) scores single fields, and rebuilds reuse rows.

Files in ``terms/`` (plain ``.npy``, memory-mapped when searched, so opening reads nothing):
``<kind>.indptr.npy``, ``<kind>.rows.npy``, ``<kind>.weights.npy`` (CSC arrays, rows sorted
in each column), ``<kind>.df.npy`` (each term's largest document frequency in one field of
the kind: the idf that picks a long query's key terms, as Whoosh's per-field df did) and
``weights.json``, the boosts the sums were made with. A search with
other boosts (an older index, a changed ``data/fields.json``) sums the fields itself.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..files import data_json
from . import integrity
from .file_reads import read_span
from .fulltext import TEXT_FIELDS

K1 = 1.2
B = 0.75
NGRAM_FIELDS = ("name_ngrams", "goal_ngrams")
KINDS = {"words": TEXT_FIELDS, "grams": NGRAM_FIELDS}  # what one query term is searched in
WEIGHTS = "weights.json"
ARRAYS = ("indptr", "rows", "weights", "df")


@lru_cache(maxsize=1)
def field_boosts() -> dict[str, float]:
    """Query-time boosts per field, from package data (``data/fields.json``)."""
    data = data_json("fields.json")
    return data["field_boosts"]


def bm25_weights(indptr: np.ndarray, rows: np.ndarray, counts: np.ndarray, n_records: int,
                 k1: float = K1, b: float = B, chunk: int = 1 << 22) -> np.ndarray:
    """BM25 weight of every stored (record, term) count of one field, a CSC matrix's data array.

    ``w = idf · tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl))`` with ``idf = ln(N / (df + 1)) + 1``:
    Robertson & Zaragoza (2009), "The Probabilistic Relevance Framework: BM25 and Beyond", with
    Whoosh's idf (``whoosh.scoring.WeightingModel.idf``) and defaults (``BM25F``), so both sides
    of goalsearch rank alike. ``dl`` counts a record's tokens in the field, ``avgdl`` averages it
    over all records. ``counts`` of any type (unsigned integers as written, float32 in older generations)
    are made float32 first, so the weights are the same to the bit.
    """
    lengths = np.zeros(n_records, dtype=np.float64)
    for start in range(0, len(rows), chunk):  # whole counts: float64 sums are exact in any grouping
        lengths += np.bincount(rows[start:start + chunk], minlength=n_records,
                               weights=np.asarray(counts[start:start + chunk], dtype=np.float32))
    average = lengths.sum() / n_records if n_records and lengths.sum() else 1.0
    df = np.diff(indptr)
    idf = (np.log(n_records / (df + 1.0)) + 1.0).astype(np.float32)
    scaled_lengths = (lengths * (k1 * b / average)).astype(np.float32)
    weights = np.repeat(idf, df)
    # float32, in place, a chunk of postings at a time: the largest field has ~34M postings at 100k
    # records and ~340M at a million, and each whole-length temporary cost 4 bytes a posting.
    for start in range(0, len(rows), chunk):
        part = slice(start, start + chunk)
        tf = np.asarray(counts[part], dtype=np.float32)
        denominator = scaled_lengths[rows[part]]
        denominator += k1 * (1.0 - b)
        denominator += tf
        out = weights[part]
        out *= tf
        out *= k1 + 1.0
        out /= denominator
    return weights


@dataclass
class Postings:
    """The columns of a CSC matrix of weights: one term's rows (sorted) and weights are one slice.

    ``df`` is each term's document frequency: of the field, or for a sum over fields the
    largest of its fields' (``summed``).
    """

    indptr: np.ndarray
    rows: np.ndarray
    weights: np.ndarray
    df: np.ndarray

    def column(self, col: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = int(self.indptr[col]), int(self.indptr[col + 1])
        return read_span(self.rows, start, end), read_span(self.weights, start, end)


def field_postings(matrix, n_records: int) -> Postings:
    """BM25 weights of one field's count matrix (scipy CSC, or anything with its three arrays)."""
    indptr = np.asarray(matrix.indptr, dtype=np.int64)
    return Postings(indptr, np.asarray(matrix.indices), bm25_weights(indptr, matrix.indices, matrix.data, n_records),
                    np.diff(indptr).astype(np.int32))


def summed(fields: dict[str, Postings], boosts: dict[str, float], n_records: int, n_terms: int,
           kinds_made: tuple[str, ...] = tuple(KINDS), scale_in_place: bool = False) -> dict[str, Postings]:
    """Per kind (``KINDS``, or those of ``kinds_made``), the boosted sum of its fields' weights, one CSC column
    per term.

    With ``scale_in_place`` the fields' weights are multiplied by their boosts where they are, not copied (a
    build drops them afterwards; at a million records the largest field's copy was 1.4 GB)."""
    from scipy import sparse

    kinds = {}
    for kind in kinds_made:
        names = KINDS[kind]
        total = sparse.csc_matrix((n_records, n_terms), dtype=np.float32)
        df = np.zeros(n_terms, dtype=np.int32)
        for name in names:
            if name in fields and boosts.get(name):
                field = fields[name]
                boost = np.float32(boosts[name])
                weights = np.multiply(field.weights, boost, out=field.weights if scale_in_place else None)
                total = total + sparse.csc_matrix((weights, field.rows, field.indptr), shape=(n_records, n_terms))
                del weights
                np.maximum(df, field.df, out=df)
        total.sum_duplicates()  # canonical: sorted rows, one entry per (row, term)
        kinds[kind] = Postings(total.indptr.astype(np.int64), total.indices.astype(np.int32, copy=False),
                               total.data.astype(np.float32, copy=False), df)
    return kinds


def write_summed(folder: Path, kinds: dict[str, Postings], boosts: dict[str, float]) -> None:
    """Write ``summed`` arrays and the boosts they were made with into ``folder``."""
    for kind, postings in kinds.items():
        for array in ARRAYS:
            np.save(folder / f"{kind}.{array}.npy", getattr(postings, array), allow_pickle=False)
    (folder / WEIGHTS).write_text(json.dumps({"boosts": boosts, "k1": K1, "b": B}, sort_keys=True), "utf-8")


def read_summed(folder: Path, boosts: dict[str, float]) -> dict[str, Postings] | None:
    """The summed arrays of ``folder``, memory-mapped; None when missing or made with other boosts."""
    try:
        made = json.loads((folder / WEIGHTS).read_text("utf-8"))
    except FileNotFoundError:
        return None
    if made != {"boosts": boosts, "k1": K1, "b": B}:
        return None
    kinds = {}
    for kind in KINDS:
        arrays = []
        for array in ARRAYS:
            name = f"{kind}.{array}.npy"
            with integrity.reading(folder.parent, f"{folder.name}/{name}"):
                arrays.append(np.load(folder / name, mmap_mode="r", allow_pickle=False))
        kinds[kind] = Postings(*arrays)
    return kinds


def summed_files() -> list[str]:
    """The names of the files ``write_summed`` makes."""
    return [f"{kind}.{array}.npy" for kind in KINDS for array in ARRAYS] + [WEIGHTS]
