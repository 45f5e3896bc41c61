"""Fusing rankings. Every method takes rankings (lists of ids, best first) and returns one fused ranking.

Reciprocal rank fusion (Cormack, Clarke & Büttcher, "Reciprocal Rank Fusion
outperforms Condorcet and individual Rank Learning Methods", SIGIR 2009):

    score(d) = Σ over rankings r containing d of 1 / (k + rank_r(d)),   rank from 1

k = 60 as in the paper damps the influence of the very top ranks.
"""
from __future__ import annotations

from enum import Enum


def rrf(rankings: list[list[str]], k: int = 60) -> list[tuple[str, float]]:
    """Reciprocal rank fusion of ranked id lists → [(id, score)], best first (ties by first appearance).

    >>> rrf([["a", "b"], ["b", "c"]], k=60)[0]
    ('b', 0.03252247488101534)
    """
    if k < 0:
        raise ValueError(f"rrf k must be ≥ 0, got {k}")
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    order = {doc_id: i for i, doc_id in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))


class FusionMethod(str, Enum):
    """The fusion methods by name."""

    RRF = "rrf"

    @classmethod
    def possible_values(cls) -> list[str]:
        return [m.value for m in cls]


FUSERS = {FusionMethod.RRF: rrf}
