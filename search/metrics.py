"""Ranking metrics, each a pure function of a ranked id list and graded judgements.

- nDCG@k (Järvelin & Kekäläinen, "Cumulated gain-based evaluation of IR techniques",
  TOIS 2002), exponential gain:  DCG = Σ_{i=1..k} (2^rel_i − 1) / log2(i + 1),
  normalised by the DCG of the ideal ordering of all judged grades.
- Recall@k: relevant ids (grade ≥ 1) in the top k / all relevant ids.
- MRR@k (Voorhees, TREC-8 QA, 1999): 1 / rank of the first relevant id within k, else 0.
"""
from __future__ import annotations

import math


def dcg(grades: list[int]) -> float:
    return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(grades))


def ndcg_at_k(ranked: list[str], judgements: dict[str, int], k: int = 10) -> float:
    """nDCG@k of ``ranked`` against graded ``judgements`` (unjudged = 0).

    >>> round(ndcg_at_k(["a", "b"], {"b": 2}), 4)
    0.6309
    """
    ideal = dcg(sorted(judgements.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([judgements.get(doc, 0) for doc in ranked[:k]]) / ideal


def recall_at_k(ranked: list[str], judgements: dict[str, int], k: int = 10) -> float:
    relevant = {doc for doc, grade in judgements.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant & set(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: list[str], judgements: dict[str, int], k: int = 10) -> float:
    for rank, doc in enumerate(ranked[:k], start=1):
        if judgements.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0
