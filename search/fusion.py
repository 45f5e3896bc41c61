"""Fusing rankings. Every method takes runs — lists of (id, score), best first, one per side —
and returns one fused list of (id, score), best first (ties by first appearance).

- ``convex`` (the default): a weighted sum of each side's normalised scores (Bruch, Gai &
  Ingber, "An Analysis of Fusion Functions for Hybrid Retrieval", TOIS 2023, who find it
  beats RRF and needs few labelled queries to set its weight). BM25 is normalised by its
  theoretical minimum 0 (``s / max``), cosine by min–max over the side's candidates, since
  cosines of one model crowd into a narrow band; an id a side did not return gets 0 there.
  Weights in ``indexer/data/fusion.json``, measured on the dev set (``benchmarks/README.md``).
- ``rrf``: reciprocal rank fusion (Cormack, Clarke & Büttcher, "Reciprocal Rank Fusion
  outperforms Condorcet and individual Rank Learning Methods", SIGIR 2009):
  ``score(d) = Σ over runs r containing d of 1 / (k + rank_r(d))``, rank from 1; k = 60 as in
  the paper damps the influence of the very top ranks. It ignores the scores.
"""
from __future__ import annotations

from enum import Enum
from functools import lru_cache

from ..indexer import UsageError
from ..indexer.files import data_json

Run = list[tuple[str, float]]


def rrf(rankings: list[list[str]], k: int = 60, depth: int | None = None) -> list[tuple[str, float]]:
    """Reciprocal rank fusion of ranked id lists → [(id, score)], best first (ties: see ``_ordered``).

    Only the first ``depth`` ranks of each list count (the rest add 0), so the fused order of the first
    results does not depend on how many candidates a page size made each side return.

    >>> rrf([["a", "b"], ["b", "c"]], k=60)[0]
    ('b', 0.03252247488101534)
    """
    if k < 0:
        raise ValueError(f"rrf k must be ≥ 0, got {k}")
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            counted = depth is None or rank <= depth
            scores[doc_id] = scores.get(doc_id, 0.0) + (1.0 / (k + rank) if counted else 0.0)
    return _ordered(scores, rankings, depth)


def normalised(run: Run, floor: float | None = None, depth: int | None = None) -> dict[str, float]:
    """Scores mapped to [0, 1]: ``(s − lo) / (max − lo)``, lo = ``floor`` or the minimum of the run's first
    ``depth`` scores (all of them when None); a score below lo is 0. Only those first ``depth`` get a value
    (the rest count 0), and their bounds come from them alone, so a score is the same whatever the run's length.

    >>> normalised([("a", 4.0), ("b", 1.0)], floor=0.0)
    {'a': 1.0, 'b': 0.25}
    """
    if not run:
        return {}
    head = run[:depth] if depth else run
    high = max(score for _, score in head)
    low = min(score for _, score in head) if floor is None else floor
    if high <= low:
        return {doc_id: 1.0 if score >= high else 0.0 for doc_id, score in head}
    return {doc_id: min(1.0, max(0.0, (score - low) / (high - low))) for doc_id, score in head}


def convex(runs: list[Run], weights: list[float], floors: list[float | None],
           depth: int | None = None) -> list[tuple[str, float]]:
    """Weighted sum of normalised scores: ``Σ_r weight_r · norm_r(score_r(d))``, each run normalised by the
    bounds of its first ``depth`` scores.

    >>> convex([[("a", 2.0), ("b", 1.0)], [("b", 0.9), ("c", 0.7)]], [0.6, 0.4], [0.0, None])
    [('b', 0.7), ('a', 0.6), ('c', 0.0)]
    """
    if len(weights) != len(runs) or len(floors) != len(runs):
        raise ValueError(f"convex fusion needs one weight and one floor per run, got {len(runs)} runs, "
                         f"{len(weights)} weights, {len(floors)} floors")
    scores: dict[str, float] = {}
    for run, weight, floor in zip(runs, weights, floors):
        for doc_id, _ in run:
            scores.setdefault(doc_id, 0.0)
        for doc_id, value in normalised(run, floor, depth).items():
            scores[doc_id] += weight * value
    return _ordered(scores, [[doc_id for doc_id, _ in run] for run in runs], depth)


def _ordered(scores: dict[str, float], rankings: list[list[str]], depth: int | None) -> list[tuple[str, float]]:
    """Best score first; a tie goes to the better rank within ``depth`` on either side, then the better rank
    anywhere, then the id. Ranks within the depth are the same whatever the page size, so a tie never
    flips when a longer page makes a side hand over more candidates."""
    counted, anywhere = {}, {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            anywhere[doc_id] = min(anywhere.get(doc_id, rank), rank)
            if depth is None or rank <= depth:
                counted[doc_id] = min(counted.get(doc_id, rank), rank)
    never = float("inf")
    return sorted(scores.items(), key=lambda item: (-item[1], counted.get(item[0], never),
                                                    anywhere.get(item[0], never), item[0]))


@lru_cache(maxsize=1)
def fusion_settings() -> dict:
    """The default method, the convex weights and candidate depth (``data/fusion.json``)."""
    return data_json("fusion.json")


class FusionMethod(str, Enum):
    """The fusion methods by name."""

    CONVEX = "convex"
    RRF = "rrf"

    @classmethod
    def possible_values(cls) -> list[str]:
        return [m.value for m in cls]

    @classmethod
    def parse(cls, value: "str | FusionMethod") -> "FusionMethod":
        try:
            return cls(value)
        except ValueError:
            raise UsageError(f"unknown fusion {str(value)[:40]!r}; choose one of {', '.join(cls.possible_values())}") from None


def parts(method: FusionMethod, bm25: Run, semantic: Run,
          rrf_k: int = 60) -> dict[str, tuple[float | None, float | None]]:
    """Each id's fused score split by side, ``(bm25 part, semantic part)``, as ``fuse`` adds them: the weighted
    normalised score (convex) or ``1 / (k + rank)`` (rrf); None for a side that did not return the id within
    the depth (it added nothing). ``--explain`` prints them, so what it shows is what the fusion added: the
    parts sum to the fused score.

    >>> parts(FusionMethod.RRF, [("a", 2.0)], [("b", 0.9), ("a", 0.8)], rrf_k=60)["b"]
    (None, 0.01639344262295082)
    """
    depth = fusion_settings()["depth"]
    if method is FusionMethod.RRF:
        sides = [{doc_id: 1.0 / (rrf_k + rank) for rank, (doc_id, _) in enumerate(run[:depth], start=1)}
                 for run in (bm25, semantic)]
    else:
        weights = fusion_settings()["convex_weights"]
        sides = [{doc_id: weight * value for doc_id, value in normalised(run, floor, depth).items()}
                 for run, weight, floor in ((bm25, weights["bm25"], 0.0), (semantic, weights["semantic"], None))]
    return {doc_id: (sides[0].get(doc_id), sides[1].get(doc_id)) for run in (bm25, semantic) for doc_id, _ in run}


def fuse(method: FusionMethod, bm25: Run, semantic: Run, rrf_k: int = 60) -> list[tuple[str, float]]:
    """The hybrid ranking of the two sides' runs by ``method``, scored from each side's first ``depth``
    candidates (``data/fusion.json``) however many the page size asked for: the first results of
    ``-n 10`` and ``-n 200`` are the same."""
    depth = fusion_settings()["depth"]
    if method is FusionMethod.RRF:
        return rrf([[doc_id for doc_id, _ in bm25], [doc_id for doc_id, _ in semantic]], k=rrf_k, depth=depth)
    weights = fusion_settings()["convex_weights"]
    return convex([bm25, semantic], [weights["bm25"], weights["semantic"]], [0.0, None], depth)
