"""Queries with syntax, scored over the term matrices when they only combine words.

Whoosh's parser still reads the syntax (``name:运维 AND goal:系统``, ``网络安全 NOT 等保``).
When the parsed query is words in text fields joined by AND, OR and NOT, it is scored
here as Whoosh's BM25F scores it (a record's score is the sum of its matching parts'
boosted weights), which keeps field and boolean queries fast at 100k records where
Whoosh's pure-Python matchers take hundreds of milliseconds. Anything else (phrases,
prefixes and wildcards, keyword and numeric fields such as ``year:``) gives None and is
left to Whoosh.
"""
from __future__ import annotations

import numpy as np
from whoosh.query import And, AndNot, Not, Or, Query, Term

from .lexical import LexicalSide

Scored = tuple[np.ndarray, np.ndarray]  # score and match flag of every record


def score_query(query: Query, lexical: LexicalSide) -> Scored | None:
    """Score and match flags of ``query`` for every record, or None if it needs Whoosh."""
    if getattr(query, "boost", 1.0) != 1.0 and not isinstance(query, Term):
        return None
    if isinstance(query, Term):
        if not isinstance(query.text, str):
            return None
        found = lexical.field_term(query.fieldname, query.text)
        return None if found is None else (found[0] * np.float32(query.boost), found[1])
    if isinstance(query, AndNot):
        positive, negative = score_query(query.a, lexical), score_query(query.b, lexical)
        if positive is None or negative is None:
            return None
        matched = positive[1] & ~negative[1]
        return positive[0] * matched, matched
    if isinstance(query, (And, Or)) and type(query) in (And, Or):
        return _compound(query, lexical)
    return None


def _compound(query: And | Or, lexical: LexicalSide) -> Scored | None:
    if isinstance(query, Or) and query.scale:
        return None
    positive = [c for c in query.subqueries if not isinstance(c, Not)]
    negative = [c.query for c in query.subqueries if isinstance(c, Not)]
    if not positive or (negative and isinstance(query, Or)):
        return None
    parts = [score_query(c, lexical) for c in positive]
    excluded = [score_query(c, lexical) for c in negative]
    if any(p is None for p in parts + excluded):
        return None
    flags = [hit for _, hit in parts]
    matched = np.logical_and.reduce(flags) if isinstance(query, And) else np.logical_or.reduce(flags)
    for _, hit in excluded:
        matched = matched & ~hit
    score = np.sum([s for s, _ in parts], axis=0, dtype=np.float32)
    return score * matched, matched
