"""Keyword and numeric fields of the records, row-aligned with the term matrices.

Syntax queries such as ``name:运维 AND year:2026`` or ``city:深圳 NOT name:运维`` mix words
with fields Whoosh indexes without BM25: ``city``, ``category`` and ``section`` as keywords,
``year`` and ``amount`` as numbers. Whoosh scores a match in such a field as the query's
boost. The same values, taken from the record store as the full-text index took them
(``keyword_values``), give the match flags here, so those queries stay on the term matrices.
"""
from __future__ import annotations

from functools import cached_property
from typing import Iterable

import numpy as np
from whoosh.query import NumericRange

from ...indexer.storage.fulltext import keyword_values, numeric_fields
from ...indexer.records import Record

KEYWORD_FIELDS = ("city", "category")
LIST_FIELDS = ("section",)  # comma-separated keywords


class RecordColumns:
    """Match flags of keyword terms and numeric ranges for every row of the term matrices.

    The columns are read from the records on first use: field and boolean queries on words
    alone never pay for them.
    """

    def __init__(self, records: Iterable[Record], ids: list[str]) -> None:
        self._records = records
        self._ids = ids
        self._numeric_types = numeric_fields()
        self.rows = len(ids)

    @cached_property
    def _values(self) -> list[dict]:
        by_id = {record.id: record for record in self._records}
        return [keyword_values(by_id[doc_id]) for doc_id in self._ids]

    @cached_property
    def _keywords(self) -> dict[str, np.ndarray]:
        return {field: np.array([v[field] for v in self._values], dtype=str) for field in KEYWORD_FIELDS}

    @cached_property
    def _lists(self) -> dict[str, dict[str, np.ndarray]]:
        lists: dict[str, dict[str, np.ndarray]] = {field: {} for field in LIST_FIELDS}
        for field, flags in lists.items():
            for row, v in enumerate(self._values):
                for word in filter(None, (w.strip() for w in str(v[field]).split(","))):
                    flags.setdefault(word, np.zeros(self.rows, dtype=bool))[row] = True
        return lists

    @cached_property
    def _numbers(self) -> dict[str, np.ndarray]:
        return {field: np.array([v[field] for v in self._values], dtype=np.float64) for field in self._numeric_types}

    def term(self, field: str, text: str | bytes) -> np.ndarray | None:
        """Which rows hold ``text`` in ``field``; None for fields this does not cover."""
        if field in self._numeric_types:
            if not isinstance(text, bytes):
                return None
            return self._numbers[field] == self._numeric_types[field].from_bytes(text)
        if field in LIST_FIELDS:
            return self._lists[field].get(text, np.zeros(self.rows, dtype=bool))
        if field in KEYWORD_FIELDS:
            return self._keywords[field] == text
        return None

    def numeric_range(self, query: NumericRange) -> np.ndarray | None:
        """Which rows fall in a numeric range (``year:[2024 TO 2026]``, ``amount:{100 TO]``)."""
        if query.fieldname not in self._numeric_types:
            return None
        values = self._numbers[query.fieldname]
        hit = np.ones(self.rows, dtype=bool)
        if query.start is not None:
            hit &= values > query.start if query.startexcl else values >= query.start
        if query.end is not None:
            hit &= values < query.end if query.endexcl else values <= query.end
        return hit
