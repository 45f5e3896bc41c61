"""Two ranking levers that look past one side's scores (issue #30, measured in ``benchmarks/README.md``).

- **Pseudo-relevance feedback for the vector side** (Rocchio, "Relevance feedback in information
  retrieval", 1971, with the top of a first ranking taken as relevant): the query vector moves
  toward the mean vector of the first fused ranking's best ``docs`` records, and the vector side
  searches again. Those records were found by both sides, so the second vector search carries
  the words BM25 matched into the meaning side: a keyword the model does not know (``ITSM``)
  still pulls the vectors of the projects that spell it out. Settings: ``feedback`` in
  ``data/fusion.json``.
- **The name holds the whole query**: for a short query (``name_first_max_chars`` in
  ``data/fields.json``), a project whose name contains the query word for word is the strongest
  evidence there is, so such projects rank before every other (``name_first``; in bm25 mode the
  lexical side does the same over all its rows).
"""
from __future__ import annotations

import re
import unicodedata

import numpy as np

_SPACE = re.compile(r"\s+")


def rocchio(query: np.ndarray, centroid: np.ndarray, beta: float) -> np.ndarray:
    """``q + β·c`` scaled back to unit length: the query moved toward the feedback records' mean ``c``.

    >>> rocchio(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 1.0).round(4).tolist()
    [0.7071, 0.7071]
    """
    moved = np.asarray(query, dtype=np.float32) + beta * np.asarray(centroid, dtype=np.float32)
    length = float(np.linalg.norm(moved))
    return moved / length if length > 0 else np.asarray(query, dtype=np.float32)


def name_key(text: str) -> str:
    """The form in which a query is looked for in names: NFKC, lower case, no whitespace (names have none)."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).lower())


def name_first(ranked: list[tuple[str, float]], named: set[str]) -> list[tuple[str, float]]:
    """``ranked`` with the ``named`` ids moved before the others, each part keeping its order.

    >>> name_first([("a", 3.0), ("b", 2.0), ("c", 1.0)], {"c"})
    [('c', 1.0), ('a', 3.0), ('b', 2.0)]
    """
    if not named:
        return ranked
    return [hit for hit in ranked if hit[0] in named] + [hit for hit in ranked if hit[0] not in named]
