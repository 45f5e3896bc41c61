"""Near-duplicate goals: projects of different units, departments or cities whose 绩效目标 are (nearly) the same text.

The auditor's view: money asked for twice, or goals copied between departments. Comparing every
pair of goals would take hours at 100k records, so candidate pairs come from two cheap sources and
only candidates are compared exactly:

1. each goal, with its own project name, unit, department, city and years masked out (a copied goal
   names its own unit), becomes its set of character ``k``-shingles (``k`` = 5), hashed to 64 bits;
2. **MinHash with banding** finds goals that are nearly the same as a whole: MinHash (Broder 1997,
   "On the resemblance and containment of documents") keeps, per random hash function, the smallest
   hash of the set, and two sets agree on one with probability equal to their Jaccard similarity;
   banding (Leskovec, Rajaraman & Ullman, *Mining of Massive Datasets*, ch. 3.4) makes two goals
   candidates when ``r`` consecutive minima agree in one of ``b`` bands, probability
   ``1 - (1 - J^r)^b`` (``r`` = 4, ``b`` = 16: 0.99 at J = 0.6);
3. **shared clauses** find a short goal copied inside a longer one, which Jaccard similarity hides:
   goals that share a whole clause (between punctuation, at least 8 characters) are candidates, unless
   the clause is boilerplate found in more than ``max_clause_goals`` goals;
4. a candidate is kept when its **containment** — the share of the shorter goal's shingles found in
   the other, ``|A ∩ B| / min(|A|, |B|)`` (Broder 1997) — reaches the threshold, the two are of
   different units, departments or cities, and they are not one project family.

Each pair carries the longest passage both goals share; pairs are joined into clusters.
"""
from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ..indexer import Record, UsageError
from ..indexer.families import family_settings

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_BIG_BUCKET = 50
_CLAUSE = re.compile(r"[，。；;！？!?、：:\n]")
_YEARS = re.compile(r"(?:19|20)\d\d\s*年?度?(?:\s*[-—–~～至到]\s*(?:(?:19|20)?\d\d)\s*年?度?)?")  # a band bucket this full is one block of identical goals: link each to its first, not all pairs


@dataclass
class DuplicatePair:
    """Two projects whose goals are nearly the same text, and the longest passage they share."""

    a: Record
    b: Record
    similarity: float  # containment: share of the shorter goal's character shingles found in the other
    shared: str
    shared_at: tuple[int, int]  # where ``shared`` starts in a's goal and in b's

    def to_dict(self) -> dict:
        def brief(r: Record) -> dict:
            return {"id": r.id, "name": r.name, "city": r.city, "year": r.year, "department": r.department,
                    "unit": r.unit, "amount": r.amount, "goal": r.goal}

        return {"a": brief(self.a), "b": brief(self.b), "similarity": self.similarity, "shared": self.shared,
                "shared_at": list(self.shared_at)}


@dataclass
class DuplicateCluster:
    """Projects joined by near-duplicate pairs (a copied goal, and every project that has it)."""

    records: list[Record]
    pairs: int

    def to_dict(self) -> dict:
        return {"ids": [r.id for r in self.records], "names": [r.name for r in self.records],
                "units": sorted({r.unit for r in self.records}), "amount": round(sum(r.amount or 0 for r in self.records), 2),
                "pairs": self.pairs}


@dataclass
class Duplicates:
    """What ``GoalSearch.duplicates`` found: pairs best first, their clusters, and what was compared."""

    threshold: float
    compared: int  # goals compared (long enough, passing the filters)
    candidates: int  # pairs MinHash proposed
    pairs: list[DuplicatePair]
    clusters: list[DuplicateCluster]

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "compared": self.compared, "candidates": self.candidates,
                "pairs": [p.to_dict() for p in self.pairs], "clusters": [c.to_dict() for c in self.clusters]}


def shingle_hashes(text: str, k: int) -> np.ndarray:
    """The sorted distinct 64-bit hashes of ``text``'s character ``k``-grams (blanks removed)."""
    codes = np.frombuffer("".join(text.split()).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < k:
        return np.unique(codes * np.uint64(0x9E3779B97F4A7C15)) if len(codes) else codes
    h = np.zeros(len(codes) - k + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):  # polynomial rolling hash, wrapping at 2^64
            h = h * np.uint64(1000003) + codes[j:len(codes) - k + 1 + j]
        h ^= h >> np.uint64(29)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(32)
    return np.unique(h)


def minhash(shingles: list[np.ndarray], permutations: int, seed: int = 1) -> np.ndarray:
    """MinHash signatures (one row per set, one column per hash function ``a·x + b mod 2^64``)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=permutations, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=permutations, dtype=np.uint64)
    flat = np.concatenate(shingles) if shingles else np.zeros(0, np.uint64)
    starts = np.cumsum([0] + [len(s) for s in shingles[:-1]]).astype(np.int64)
    out = np.empty((len(shingles), permutations), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for p in range(permutations):
            out[:, p] = np.minimum.reduceat(flat * a[p] + b[p], starts) if len(flat) else 0
    return out


def candidate_pairs(signatures: np.ndarray, rows: int) -> set[tuple[int, int]]:
    """Pairs of rows whose signatures agree on a whole band of ``rows`` minima."""
    pairs: set[tuple[int, int]] = set()
    n, permutations = signatures.shape
    for start in range(0, permutations - rows + 1, rows):
        band = np.ascontiguousarray(signatures[:, start:start + rows])
        keys = band.view(np.dtype((np.void, band.dtype.itemsize * rows))).ravel()
        _add_groups(pairs, keys)
    return pairs


def _add_groups(pairs: set[tuple[int, int]], keys: np.ndarray, most: int | None = None) -> None:
    """Add every pair of positions with equal ``keys`` (a group over ``most`` is skipped; one over
    ``_BIG_BUCKET`` is one block of identical goals, each linked to its first)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    edges = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
    for group in np.split(order, edges):
        if len(group) < 2 or (most is not None and len(group) > most):
            continue
        group = sorted(set(group.tolist()))
        if len(group) > _BIG_BUCKET:
            pairs.update((group[0], j) for j in group[1:])
        else:
            pairs.update((i, j) for x, i in enumerate(group) for j in group[x + 1:])


def clause_pairs(goals: list[str], min_chars: int, most: int) -> set[tuple[int, int]]:
    """Pairs of goals that share a whole clause of at least ``min_chars`` characters (clauses in more than ``most`` goals are boilerplate)."""
    owners, hashes = [], []
    for i, goal in enumerate(goals):
        for clause in {c for c in _CLAUSE.split(goal) if len(c) >= min_chars}:
            owners.append(i)
            hashes.append(hash(clause))
    if not owners:
        return set()
    found: set[tuple[int, int]] = set()
    by_clause: set[tuple[int, int]] = set()
    _add_groups(by_clause, np.array(hashes, dtype=np.int64), most)
    for x, y in by_clause:  # positions in owners → goals
        i, j = owners[x], owners[y]
        if i != j:
            found.add((min(i, j), max(i, j)))
    return found


def mask_own_names(record: Record) -> str:
    """The goal without blanks, years, and the record's own name, unit, department and city (a copied goal names its own)."""
    text = "".join((record.goal or "").split())
    city = record.city or ""
    names = {record.name, record.unit, record.department, city, city[:-1] if city.endswith("市") else ""}
    for name in sorted((n for n in names if len(n) >= 2), key=len, reverse=True):
        text = text.replace(name, "")
    return _YEARS.sub("", text)


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """|A ∩ B| / min(|A|, |B|) of two sorted distinct hash arrays: the share of the smaller found in the other."""
    smaller = min(len(a), len(b))
    return len(np.intersect1d(a, b, assume_unique=True)) / smaller if smaller else 0.0


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|A ∩ B| / |A ∪ B| of two sorted distinct hash arrays."""
    common = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - common
    return common / union if union else 0.0


def shared_passage(a: str, b: str) -> tuple[str, int, int]:
    """The longest passage two goals share, and where it starts in each."""
    match = difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return a[match.a:match.a + match.size], match.a, match.b


def find_duplicates(records: list[Record], family_of: dict[str, str], threshold: float | None = None,
                    limit: int | None = 50, settings: dict | None = None) -> Duplicates:
    """Near-duplicate goals among ``records`` (see the module docstring).

    Args:
        records: the projects to compare (already filtered).
        family_of: record id → family id; pairs inside one family are left out.
        threshold: least containment of the shorter goal in the other (default ``data/families.json``).
        limit: most pairs returned, most similar first (clusters are made from all of them).
    """
    settings = settings or family_settings()["duplicates"]
    threshold = settings["threshold"] if threshold is None else threshold
    if not 0.0 < threshold <= 1.0:
        raise UsageError(f"threshold must be above 0 and at most 1, got {threshold}")
    if limit is not None and limit < 1:
        raise UsageError(f"limit must be at least 1, got {limit}")
    masked = [(r, mask_own_names(r)) for r in records]
    pool = [r for r, text in masked if len(text) >= settings["min_goal_chars"]]
    texts = [text for _, text in masked if len(text) >= settings["min_goal_chars"]]
    shingles = [shingle_hashes(text, settings["shingle"]) for text in texts]
    candidates: set[tuple[int, int]] = set()
    if pool:
        candidates = candidate_pairs(minhash(shingles, settings["permutations"]), settings["band_rows"])
        candidates |= clause_pairs(texts, settings["clause_chars"], settings["max_clause_goals"])
    found = []
    for i, j in candidates:
        a, b = pool[i], pool[j]
        if (a.unit, a.department, a.city) == (b.unit, b.department, b.city):
            continue
        if family_of.get(a.id) is not None and family_of.get(a.id) == family_of.get(b.id):
            continue
        similarity = containment(shingles[i], shingles[j])
        if similarity >= threshold:
            found.append((similarity, i, j))
    found.sort(key=lambda t: (-t[0], -((pool[t[1]].amount or 0) + (pool[t[2]].amount or 0)), pool[t[1]].id, pool[t[2]].id))
    clusters = _clusters(pool, [(i, j) for _, i, j in found])
    pairs = []
    for similarity, i, j in found[:limit] if limit else found:
        a, b = sorted((pool[i], pool[j]), key=lambda r: (r.year or 0, r.unit, r.id))
        text, at_a, at_b = shared_passage(a.goal, b.goal)
        pairs.append(DuplicatePair(a, b, round(similarity, 3), text, (at_a, at_b)))
    return Duplicates(threshold, len(pool), len(candidates), pairs, clusters)


def _clusters(pool: list[Record], pairs: list[tuple[int, int]]) -> list[DuplicateCluster]:
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])  # path halving: chains stay short at a million pairs
            x = parent[x]
        return x

    for i, j in pairs:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    members: dict[int, set[int]] = defaultdict(set)
    counts: dict[int, int] = defaultdict(int)
    for i, j in pairs:
        root = find(i)
        members[root].update((i, j))
        counts[root] += 1
    clusters = [DuplicateCluster(sorted((pool[i] for i in group), key=lambda r: (r.unit, r.year or 0, r.id)), counts[root])
                for root, group in members.items()]
    clusters.sort(key=lambda c: (-len(c.records), -sum(r.amount or 0 for r in c.records), c.records[0].id))
    return clusters
