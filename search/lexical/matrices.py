"""Plain-query BM25 over the term matrices written at index time, in numpy.

A plain query (``plain``) is weighted word groups (a word, and for long words the
dictionary words inside it), weighted character n-grams, and synonym alternatives. A
record's score is the sum over terms and fields of
``weight(term) × boost(field) × BM25(term, field)``; a group matches when its word occurs
in any jieba field or all of its parts do (then the parts' scores are added). Records
matching every group of the user's own words rank before records matching only some,
which is what asking Whoosh for "all words" and then "any word" did, without its
pure-Python union over common words.

The boosted sums over fields are made at index time (``indexer.storage.term_weights``), so each
query term is one slice of memory-mapped arrays and one scatter. Only numpy is needed
here: the files are read as plain arrays (no pickle, no scipy import on the query path,
except to sum the fields of an index made with other boosts).
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Callable

import numpy as np

from ...indexer.storage import integrity
from ...indexer.storage.file_reads import read_span
from ...indexer.storage.term_weights import Postings, field_postings, read_summed, summed
from ...indexer.storage.terms import KEYS, TERMS, VOCABULARY, read_counts

from ..top import best_first
from .plain import PlainQuery

NameRule = tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]  # rows that may hold the query; which do


def _holding(rows: np.ndarray, key: np.ndarray, maybe: np.ndarray, holds: Callable[[np.ndarray], np.ndarray],
             limit: int) -> np.ndarray:
    """Positions in ``rows`` that hold the query: the best ``limit`` of them by ``key`` (ties by row),
    asking ``holds`` about the ``maybe`` rows in that order, a chunk at a time.

    The first chunk is ``limit`` and a quarter (50 at least): most rows an n-gram lookup finds do hold a
    short query, so a page of 10 is full after ~50 names and hybrid's 100 candidates after ~125, not 500
    (reading 500 names was ~40 % of a short bm25 query at 100k, and hybrid read 400 for its 100); each next
    chunk is twice the last, up to 500. The holders found are those of the chunks read; the first ``limit`` of them in ranking
    order are the same whatever the chunk sizes."""
    positions = np.flatnonzero(maybe[rows])
    positions = positions[np.lexsort((rows[positions], -key[positions]))]
    found: list[np.ndarray] = []
    count, start = 0, 0
    size = min(500, max(50, limit + limit // 4))
    while start < len(positions):
        chunk = positions[start:start + size]
        held = chunk[holds(rows[chunk])]
        found.append(held)
        count += len(held)
        start, size = start + size, min(500, 2 * size)
        if count >= limit:
            break
    return np.concatenate(found) if found else np.empty(0, dtype=np.intp)


class FieldWeights(Mapping):
    """The fields of a ``LexicalSide`` (those with a boost and counts) → their BM25 weights, made from a
    field's counts on its first use: a syntax query naming one field reads that field only (at 100k records
    weighing every field took ~1.3 s, and the fields stored aligned with the sums, ``term_counts``, more)."""

    def __init__(self, side: "LexicalSide") -> None:
        self._side = side
        self._counts: dict | None = None
        self._weights: dict[str, Postings] = {}
        self._checked: set[str] = set()

    def _stored(self) -> dict:
        if self._counts is None:
            side = self._side
            found = {field: read_counts(side.folder, field, side.generation) for field in side.boosts}
            self._counts = {field: counts for field, counts in found.items() if counts is not None}
        return self._counts

    def checked_counts(self, field: str):
        """A field's counts (``read_counts``), their pointers and rows checked once; None for a field without any."""
        counts = self._stored().get(field)
        if counts is not None and field not in self._checked:
            side = self._side
            name, data_name = (f"{TERMS}/{file}" for file in counts.files)
            with integrity.reading(side.generation, name):
                integrity.check_csc(side.generation, name, counts.indptr, counts.indices, len(side.ids), len(side.column),
                                    counts.data, data_name)
            self._checked.add(field)
        return counts

    def __getitem__(self, field: str) -> Postings:
        if field not in self._weights:
            counts = self.checked_counts(field)
            if counts is None:
                raise KeyError(field)
            side = self._side
            with integrity.reading(side.generation, f"{TERMS}/{counts.files[0]}"):
                self._weights[field] = field_postings(counts, len(side.ids))
        return self._weights[field]

    def __iter__(self) -> Iterator[str]:
        return iter(self._stored())

    def __len__(self) -> int:
        return len(self._stored())


class LexicalSide:
    """BM25 over one generation's term matrices: plain queries, and the terms of parsed syntax (``syntax``)."""

    def __init__(self, generation: Path, boosts: dict[str, float], ids: list[str],
                 row: dict[str, int] | None = None) -> None:
        """``ids``: the record id of each row, the record store's order (the build wrote both from one list);
        ``row`` their positions if the caller has them."""
        self.generation = generation
        self.folder = generation / TERMS
        vocabulary = json.loads((self.folder / VOCABULARY).read_text("utf-8"))
        self.ids = ids
        self.row = row if row is not None else {doc_id: i for i, doc_id in enumerate(self.ids)}
        self.column = {term: i for i, term in enumerate(vocabulary)}
        self.boosts = boosts
        self._by_field = FieldWeights(self)
        self._names = None  # the name n-gram counts, read on the first short query
        kinds = read_summed(self.folder, boosts) or summed(self.by_field, boosts, len(self.ids), len(vocabulary))
        for kind, postings in kinds.items():
            integrity.check_pointers(generation, f"{TERMS}/{kind}.*.npy", postings, len(vocabulary))
        self.words, self.grams = kinds["words"], kinds["grams"]

    @property
    def by_field(self) -> Mapping[str, Postings]:
        """Each field's own BM25 weights, each read and checked when first asked for (syntax scores the
        fields it names; ``check`` reads them all)."""
        return self._by_field

    def field_rows(self, field: str, term: str) -> np.ndarray | None:
        """The rows whose ``field`` has ``term``, from its counts alone; None when the field has none.

        What a total asks (is the word there?): computing every field's BM25 weights for it (``by_field``) was
        2.5 s of the first total at 100k records."""
        counts = self._by_field.checked_counts(field)
        if counts is None:
            return None
        col = self.column.get(term)
        if col is None:
            return np.empty(0, dtype=np.int64)
        with integrity.reading(self.generation, f"{TERMS}/{counts.files[0]}"):
            return read_span(counts.indices, int(counts.indptr[col]), int(counts.indptr[col + 1]))

    def idf(self, term: str, grams: bool = False) -> float:
        """Whoosh's idf of ``term`` with its largest document frequency in one jieba field (or
        one n-gram field): ranks the key terms of a long query."""
        postings = self.grams if grams else self.words
        col = self.column.get(term)
        df = float(postings.df[col]) if col is not None else 0.0
        return float(np.log(len(self.ids) / (df + 1.0)) + 1.0)

    @staticmethod
    def available(generation: Path) -> bool:
        """Does this generation have term matrices (indexes built before they existed do not)?"""
        return (generation / TERMS / KEYS).exists()

    def field_term(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Unboosted BM25 score and match flag of ``term`` in one field for every record;
        None when the field has no matrix (keyword and numeric fields)."""
        postings = self.by_field.get(field)
        if postings is None:
            return None
        score = np.zeros(len(self.ids), dtype=np.float32)
        hit = np.zeros(len(self.ids), dtype=bool)
        col = self.column.get(term)
        if col is not None:
            rows, weights = postings.column(col)
            score[rows] = weights
            hit[rows] = True
        return score, hit

    def name_rows(self, grams: list[str]) -> np.ndarray | None:
        """Rows whose name (or an alias) has every one of ``grams`` (character n-grams): the only rows
        whose name can contain the text they come from. None for an index without the name n-gram field."""
        if self._names is None:
            self._names = read_counts(self.folder, "name_ngrams", self.generation) or False
        if self._names is False or not grams:
            return None
        rows = None
        for gram in dict.fromkeys(grams):
            col = self.column.get(gram)
            if col is None:
                return np.empty(0, dtype=np.int64)
            with integrity.reading(self.generation, f"{TERMS}/{self._names.files[0]}"):
                found = self._names.column_rows(col)
            rows = found if rows is None else np.intersect1d(rows, found, assume_unique=True)
            if not len(rows):
                break
        return rows[(rows >= 0) & (rows < len(self.ids))].astype(np.int64)

    def _add_group(self, total: np.ndarray, word: str, parts: tuple[str, ...], weight: float) -> np.ndarray | None:
        """Add ``weight`` × the group's score to ``total``; the rows it matches (a mask), None if none can.

        A group matches where its word occurs in any jieba field, or all of its parts do;
        where both, both scores count.
        """
        hit = None
        col = self.column.get(word)
        if col is not None:
            rows, weights = self.words.column(col)
            np.add.at(total, rows, weight * weights)
            hit = np.zeros(len(self.ids), dtype=bool)
            hit[rows] = True
        cols = [self.column.get(part) for part in parts]
        if not parts or None in cols:
            return hit
        found = np.zeros(len(self.ids), dtype=np.int16)
        for part in cols:
            found[self.words.column(part)[0]] += 1
        every_part = found == len(cols)
        for part in cols:
            rows, weights = self.words.column(part)
            keep = every_part[rows]
            np.add.at(total, rows[keep], weight * weights[keep])
        return every_part if hit is None else hit | every_part

    def _rank(self, query: PlainQuery, allowed: np.ndarray | None, limit: int,
              first: NameRule | None = None) -> list[tuple[str, float]]:
        """Term at a time: each term's column is added to the scores with ``np.add.at`` (one
        unbuffered pass, three times faster than ``total[rows] += ...`` on the common n-grams).
        Every weight is positive (fields boosted 0 are left out of the sums), so the records
        that match anything are those with a score."""
        total = np.zeros(len(self.ids), dtype=np.float32)
        matched = np.zeros(len(self.ids), dtype=np.int32)
        for (word, parts), weight in zip(query.groups, query.weights):
            hit = self._add_group(total, word, parts, weight)
            if hit is not None:
                matched += hit
        for groups, weight in query.alternatives:
            for word, parts in groups:
                self._add_group(total, word, parts, weight)
        for gram, weight in query.grams.items():
            col = self.column.get(gram)
            if col is not None:
                rows, weights = self.grams.column(col)
                np.add.at(total, rows, weight * weights)
        if not np.isfinite(total).all():  # weights that are not numbers would match nothing, silently
            raise integrity.damaged(self.generation, f"{TERMS}/{self._not_finite()}.weights.npy",
                                    "weights that are not numbers")
        return self.top(total, total > 0, allowed, limit, complete=matched == len(query.groups), first=first)

    def rank(self, query: PlainQuery, allowed: np.ndarray | None, limit: int,
             first: NameRule | None = None) -> list[tuple[str, float]]:
        """The ``limit`` best (id, score) pairs for ``query`` among ``allowed`` rows (a mask; None: all);
        ``first``: which rows rank before all others (names that hold the whole query, ``top``)."""
        try:
            return self._rank(query, allowed, limit, first)
        except IndexError:  # a row number out of range: the arrays are damaged (not scanned at open)
            kind = next((kind for kind, postings in (("words", self.words), ("grams", self.grams))
                         if len(postings.rows) and int(postings.rows.max()) >= len(self.ids)), "words")
            raise integrity.damaged(self.generation, f"{TERMS}/{kind}.rows.npy",
                                    "a row number is out of range") from None

    def _not_finite(self) -> str:
        """Which summed weights hold a value that is not a number (read whole: only when a search met one)."""
        return next((kind for kind, postings in (("words", self.words), ("grams", self.grams))
                     if not np.isfinite(postings.weights).all()), "words")

    def knows(self, term: str) -> bool:
        """Does any record have ``term`` (a jieba word or an n-gram)?"""
        return term in self.column

    def top(self, score: np.ndarray, matched: np.ndarray, allowed: np.ndarray | None, limit: int,
            complete: np.ndarray | None = None, first: NameRule | None = None) -> list[tuple[str, float]]:
        """The ``limit`` best (id, score) pairs among matched and allowed rows: rows ``first`` says hold the
        query, then ``complete`` rows, then by score, ties in row order (Whoosh's document order).

        ``first`` is (a mask of the rows that may hold it, a function telling which of some rows do). Those
        rows are asked in ranking order, a chunk at a time (``_holding``), until ``limit`` of them hold: the page is then
        theirs, and the rest need not be read (a common word at 100k has thousands of candidates)."""
        candidate = matched & allowed if allowed is not None else matched
        rows = np.flatnonzero(candidate)
        if not len(rows) or limit <= 0:
            return []
        key = score[rows].astype(np.float64)
        step = float(key.max()) + 1.0
        if complete is not None:
            key += complete[rows] * step
        if first is not None:
            key[_holding(rows, key, *first, limit)] += 2 * step
        return [(self.ids[r], float(score[r])) for r in rows[best_first(key, limit)]]

    def mask(self, allowed: np.ndarray | None, exclude: set[str]) -> np.ndarray | None:
        """A row mask from allowed rows (a mask) and excluded ids (None when nothing is restricted)."""
        if allowed is None and not exclude:
            return None
        mask = np.ones(len(self.ids), dtype=bool) if allowed is None else allowed.copy()
        mask[[self.row[i] for i in exclude if i in self.row]] = False
        return mask
