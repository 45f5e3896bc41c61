"""Queries with syntax, scored over the term matrices when they only combine words and fields.

Whoosh's parser still reads the syntax (``name:运维 AND year:2026``, ``网络安全 NOT 等保``).
When the parsed query is words in text fields, keyword terms (``city:深圳``) and numeric
terms or ranges (``year:[2024 TO 2026]``) joined by AND, OR and NOT, it is scored here as
Whoosh's BM25F scores it (a record's score is the sum of its matching parts' boosted
weights; a keyword or numeric match weighs its boost), which keeps such queries fast at
100k records where Whoosh's pure-Python matchers take hundreds of milliseconds. Anything
else (phrases, prefixes and wildcards, ranges of keywords) gives None and is left to Whoosh.
"""
from __future__ import annotations

import numpy as np
from whoosh.query import And, AndNot, Not, NumericRange, Or, Query, Term

from .matrices import LexicalSide
from .record_columns import RecordColumns

Scored = tuple[np.ndarray, np.ndarray]  # score and match flag of every record


def score_query(query: Query, lexical: LexicalSide, columns: RecordColumns | None = None) -> Scored | None:
    """Score and match flags of ``query`` for every record, or None if it needs Whoosh.

    ``columns`` holds the keyword and numeric fields; without it, queries on them need Whoosh.
    """
    if getattr(query, "boost", 1.0) != 1.0 and not isinstance(query, (Term, NumericRange)):
        return None
    if type(query) is NumericRange:
        hit = None if columns is None else columns.numeric_range(query)
        return None if hit is None else (hit * np.float32(query.boost), hit)
    if isinstance(query, Term):
        hit = None if columns is None else columns.term(query.fieldname, query.text)
        if hit is not None:
            return hit * np.float32(query.boost), hit
        found = lexical.field_term(query.fieldname, query.text) if isinstance(query.text, str) else None
        return None if found is None else (found[0] * np.float32(query.boost), found[1])
    if isinstance(query, AndNot):
        positive, negative = score_query(query.a, lexical, columns), score_query(query.b, lexical, columns)
        if positive is None or negative is None:
            return None
        matched = positive[1] & ~negative[1]
        return positive[0] * matched, matched
    if isinstance(query, (And, Or)) and type(query) in (And, Or):
        return _compound(query, lexical, columns)
    return None


def _compound(query: And | Or, lexical: LexicalSide, columns: RecordColumns | None) -> Scored | None:
    if isinstance(query, Or) and query.scale:
        return None
    positive = [c for c in query.subqueries if not isinstance(c, Not)]
    negative = [c.query for c in query.subqueries if isinstance(c, Not)]
    if not positive or (negative and isinstance(query, Or)):
        return None
    parts = [score_query(c, lexical, columns) for c in positive]
    excluded = [score_query(c, lexical, columns) for c in negative]
    if any(p is None for p in parts + excluded):
        return None
    flags = [hit for _, hit in parts]
    matched = np.logical_and.reduce(flags) if isinstance(query, And) else np.logical_or.reduce(flags)
    for _, hit in excluded:
        matched = matched & ~hit
    score = np.sum([s for s, _ in parts], axis=0, dtype=np.float32)
    return score * matched, matched
