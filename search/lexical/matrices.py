"""Plain-query BM25 over the term matrices written at index time, in numpy.

A plain query (``plain``) is weighted word groups (a word, and for long words the
dictionary words inside it), weighted character n-grams, and synonym alternatives. A
record's score is the sum over terms and fields of
``weight(term) × boost(field) × BM25(term, field)``; a group matches when its word occurs
in any jieba field or all of its parts do (then the parts' scores are added). Records
matching every group of the user's own words rank before records matching only some,
which is what asking Whoosh for "all words" and then "any word" did, without its
pure-Python union over common words.

Only numpy is needed here: the ``.npz`` files are read as plain arrays (no pickle, no
scipy import on the query path).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from indexer.terms import KEYS, NGRAM_FIELDS, TERMS, VOCABULARY

from .plain import PlainQuery

K1 = 1.2
B = 0.75


def bm25_weights(indptr: np.ndarray, rows: np.ndarray, counts: np.ndarray, n_records: int,
                 k1: float = K1, b: float = B) -> np.ndarray:
    """BM25 weight of every stored (record, term) count of one field, a CSC matrix's data array.

    ``w = idf · tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl))`` with ``idf = ln(N / (df + 1)) + 1``:
    Robertson & Zaragoza (2009), "The Probabilistic Relevance Framework: BM25 and Beyond", with
    Whoosh's idf (``whoosh.scoring.WeightingModel.idf``) and defaults (``BM25F``), so both sides
    of goalsearch rank alike. ``dl`` counts a record's tokens in the field, ``avgdl`` averages it
    over all records.
    """
    lengths = np.bincount(rows, weights=counts, minlength=n_records)
    average = lengths.sum() / n_records if n_records and lengths.sum() else 1.0
    df = np.diff(indptr)
    idf = (np.log(n_records / (df + 1.0)) + 1.0).astype(np.float32)
    # float32 and in place: at 100k records these arrays have ~10M entries per field.
    denominator = (lengths * (k1 * b / average)).astype(np.float32)[rows]
    denominator += k1 * (1.0 - b)
    denominator += counts
    weights = np.repeat(idf, df)
    weights *= counts
    weights *= k1 + 1.0
    weights /= denominator
    return weights


class _FieldWeights:
    """One field's BM25 weights, column by column (CSC arrays)."""

    def __init__(self, path: Path, n_records: int) -> None:
        with np.load(path, allow_pickle=False) as stored:
            self.indptr = stored["indptr"].astype(np.int64)
            self.rows = stored["indices"]
            counts = stored["data"]
        self.weights = bm25_weights(self.indptr, self.rows, counts, n_records)

    def column(self, col: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.indptr[col], self.indptr[col + 1]
        return self.rows[start:end], self.weights[start:end]


class LexicalSide:
    """BM25 over one generation's term matrices: plain queries, and the terms of parsed syntax (``syntax``)."""

    def __init__(self, generation: Path, boosts: dict[str, float]) -> None:
        folder = generation / TERMS
        vocabulary = json.loads((folder / VOCABULARY).read_text("utf-8"))
        self.ids = [key["id"] for key in json.loads((folder / KEYS).read_text("utf-8"))]
        self.row = {doc_id: i for i, doc_id in enumerate(self.ids)}
        self.column = {term: i for i, term in enumerate(vocabulary)}
        self.by_field = {field: _FieldWeights(folder / f"{field}.npz", len(self.ids))
                         for field in boosts if (folder / f"{field}.npz").exists()}
        self.fields = [(boosts[f], weights) for f, weights in self.by_field.items() if f not in NGRAM_FIELDS]
        self.gram_fields = [(boosts[f], weights) for f, weights in self.by_field.items() if f in NGRAM_FIELDS]
        self._df: dict[bool, np.ndarray] = {}

    def idf(self, term: str, grams: bool = False) -> float:
        """Whoosh's idf of ``term`` (its largest document frequency over the jieba fields, or the
        n-gram fields): ranks the key terms of a long query."""
        if grams not in self._df:
            fields = self.gram_fields if grams else self.fields
            self._df[grams] = np.max([np.diff(f.indptr) for _, f in fields], axis=0) if fields else np.zeros(0)
        col = self.column.get(term)
        df = float(self._df[grams][col]) if col is not None and col < len(self._df[grams]) else 0.0
        return float(np.log(len(self.ids) / (df + 1.0)) + 1.0)

    @staticmethod
    def available(generation: Path) -> bool:
        """Does this generation have term matrices (indexes built before they existed do not)?"""
        return (generation / TERMS / KEYS).exists()

    def _scored(self, col: int | None, fields: list[tuple[float, _FieldWeights]]) -> tuple[np.ndarray, np.ndarray]:
        """Boosted weights of column ``col`` summed over ``fields``, and match flags, for every record."""
        score = np.zeros(len(self.ids), dtype=np.float32)
        hit = np.zeros(len(self.ids), dtype=bool)
        if col is not None:
            for boost, field in fields:
                rows, weights = field.column(col)
                score[rows] += boost * weights
                hit[rows] = True
        return score, hit

    def _term(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Boosted score and match flag of one term in every field; None if no record has it."""
        col = self.column.get(term)
        return None if col is None else self._scored(col, self.fields)

    def field_term(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Unboosted BM25 score and match flag of ``term`` in one field for every record;
        None when the field has no matrix (keyword and numeric fields)."""
        weights = self.by_field.get(field)
        return None if weights is None else self._scored(self.column.get(term), [(1.0, weights)])

    def _group(self, word: str, parts: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray] | None:
        found = self._term(word)
        pieces = [self._term(p) for p in parts]
        if not parts or any(p is None for p in pieces):
            return found
        all_parts = np.logical_and.reduce([hit for _, hit in pieces])
        parts_score = np.sum([score for score, _ in pieces], axis=0) * all_parts
        if found is None:
            return parts_score, all_parts
        return found[0] + parts_score, found[1] | all_parts

    def rank(self, query: PlainQuery, allowed: np.ndarray | None, limit: int) -> list[tuple[str, float]]:
        """The ``limit`` best (id, score) pairs for ``query`` among ``allowed`` rows (a mask; None: all)."""
        total = np.zeros(len(self.ids), dtype=np.float32)
        matched = np.zeros(len(self.ids), dtype=np.int32)
        for (word, parts), weight in zip(query.groups, query.weights):
            found = self._group(word, parts)
            if found is not None:
                total += weight * found[0]
                matched += found[1]
        anything = matched > 0
        for groups, weight in query.alternatives:
            for word, parts in groups:
                found = self._group(word, parts)
                if found is not None:
                    total += weight * found[0]
                    anything |= found[1]
        for gram, weight in query.grams.items():
            col = self.column.get(gram)
            if col is not None:
                score, hit = self._scored(col, self.gram_fields)
                total += weight * score
                anything |= hit
        return self.top(total, anything, allowed, limit, complete=matched == len(query.groups))

    def knows(self, term: str) -> bool:
        """Does any record have ``term`` (a jieba word or an n-gram)?"""
        return term in self.column

    def top(self, score: np.ndarray, matched: np.ndarray, allowed: np.ndarray | None, limit: int,
            complete: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The ``limit`` best (id, score) pairs among matched and allowed rows, ``complete`` rows
        first, then by score, ties in row order (Whoosh's document order)."""
        candidate = matched & allowed if allowed is not None else matched
        rows = np.flatnonzero(candidate)
        if not len(rows) or limit <= 0:
            return []
        key = score[rows].astype(np.float64)
        if complete is not None:
            key += complete[rows] * (float(key.max()) + 1.0)
        if len(rows) > limit:
            best = np.argpartition(-key, limit - 1)[:limit]
            rows, key = rows[best], key[best]
        order = np.lexsort((rows, -key))
        return [(self.ids[r], float(score[r])) for r in rows[order]]

    def mask(self, allowed: set[str] | None, exclude: set[str]) -> np.ndarray | None:
        """A row mask from allowed and excluded ids (None when nothing is restricted)."""
        if allowed is None and not exclude:
            return None
        if allowed is None:
            mask = np.ones(len(self.ids), dtype=bool)
        else:
            mask = np.zeros(len(self.ids), dtype=bool)
            mask[[self.row[i] for i in allowed if i in self.row]] = True
        mask[[self.row[i] for i in exclude if i in self.row]] = False
        return mask
