"""Issue #30's levers, each alone, on one sample index: what was kept and what was not, per query kind.

    python -m goalsearch index indexer/samples --index-dir /tmp/relevance-idx
    python benchmarks/relevance_round3.py --index-dir /tmp/relevance-idx --json benchmarks/results/relevance_round3.json
    python benchmarks/relevance_round3.py --index-dir /tmp/relevance-idx --new-only --json benchmarks/results/relevance_round4.json

Each side is computed once per query (BM25 over every record, the query vector with either prompt), and the
levers are re-ranked from those in numpy, so the whole table takes a few minutes, not one index per row.
The shipped pipeline re-implemented here gives the numbers ``goalsearch eval`` gives (checked: row "shipped").
Rows: the #13 settings, then the two kept levers added one at a time, then each tried lever on top of the
shipped settings. ``dev`` is ``benchmarks/dev_queries.json`` (= ``../shared/relevance/dev_queries.json``),
``old`` the older ``benchmarks/eval_queries.json``. Also counted: short queries whose name-holding projects
rank below another (the name-first rule), and the cost of sentence vectors (MaxP).
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from warm_latency import import_search  # noqa: E402

import_search(ROOT)  # goalsearch is this tree, not the installed one

from goalsearch.indexer.analysis.analyzer import query_words  # noqa: E402
from goalsearch.search import GoalSearch, load_queries  # noqa: E402
from goalsearch.search.evaluate import resolve  # noqa: E402
from goalsearch.search.feedback import name_key, rocchio  # noqa: E402
from goalsearch.search.fusion import convex, normalised  # noqa: E402
from goalsearch.search.lexical.plain import query_settings  # noqa: E402
from goalsearch.search.metrics import ndcg_at_k  # noqa: E402

SETS = {"dev": ROOT / "benchmarks" / "dev_queries.json", "old": ROOT / "benchmarks" / "eval_queries.json"}
SHIPPED = {"name_first": 8, "fb_docs": 3, "fb_beta": 1.0, "fb_from": "fused", "w": {"short": .6, "sentence": .6, "paste": .6},
           "maxp": 0.0, "rm3": None, "prox": 0.0, "both_prompts": False, "three_way": None,
           "norm": "minmax", "mnz": False, "df_max": None, "segments": None, "dedupe": False}
PASTE = 80  # characters: a paste (query_settings()["paste_chars"])
SENTENCE = re.compile(r"(?<=[。；;！？!?\n])|\s+(?=\d+(?:\.\d+)*[、.．])")  # sentence ends, and numbered items


class Sides:
    """Everything the rows re-rank from: per query, BM25 over all records (no name rule) and query vectors."""

    def __init__(self, index: GoalSearch) -> None:
        self.index = index
        self.ids = list(index.vectors.ids)
        self.row = {doc_id: i for i, doc_id in enumerate(self.ids)}
        self.views = index.vectors.views
        self.matrix = np.array(index.vectors.vectors, dtype=np.float32)
        self.docs = self.matrix.reshape(len(self.ids), self.views, -1).mean(axis=1)
        records = [index.by_id[i] for i in self.ids]
        self.names = [name_key(r.name) for r in records]
        self.goals = [name_key(r.goal or "") for r in records]
        self.words = [Counter(w for w in query_words(f"{r.name} {r.goal}", index.extra_words) if len(w) > 1)
                      for r in records]
        self.goal_texts = [r.goal or "" for r in records]
        self.queries: dict[str, list[dict]] = {}
        saved = query_settings()["name_first_max_chars"]
        query_settings()["name_first_max_chars"] = 0  # the rule is applied below, row by row
        embedder = index._embedder()
        try:
            for name, path in SETS.items():
                rows = []
                for q in load_queries(path):
                    judged, _ = resolve(index, q["relevant"])
                    bm25, _, _ = index.bm25.search(q["query"], None, len(self.ids))
                    other = embedder.encode_queries([q["query"]], passage=len(q["query"]) < 80)[0]
                    parts = [p.strip() for p in SENTENCE.split(q["query"]) if p and len(p.strip()) >= 8]
                    segments = embedder.encode_queries(parts, passage=True) if len(q["query"]) >= PASTE and parts else None
                    rows.append({**q, "judged": judged, "bm25": bm25, "vector": np.array(index.encode_query(q["query"])),
                                 "other_prompt": np.asarray(other),
                                 "segments": None if segments is None else np.asarray(segments, dtype=np.float32)})
                self.queries[name] = rows
        finally:
            query_settings()["name_first_max_chars"] = saved
        self.sentences: tuple[np.ndarray, np.ndarray] | None = None

    def cosines(self, vector: np.ndarray, maxp: float) -> np.ndarray:
        scores = self.matrix @ np.tile(vector, self.views) / self.views
        if maxp and self.sentences is not None:
            vectors, owner = self.sentences
            best = np.full(len(self.ids), -2.0)
            np.maximum.at(best, owner, vectors @ vector)
            scores = (1 - maxp) * scores + maxp * np.where(best < -1.5, scores, best)
        return scores

    def run(self, scores: np.ndarray) -> list[tuple[str, float]]:
        order = np.lexsort((np.arange(len(scores)), -scores))
        return [(self.ids[r], float(scores[r])) for r in order]


def query_class(text: str) -> str:
    return "short" if len(text) <= 12 else "paste" if len(text) >= 80 else "sentence"


def name_first(sides: Sides, run, query: str, limit: int):
    key = name_key(query)
    if not limit or len(key) > limit:
        return run
    return [h for h in run if key in sides.names[sides.row[h[0]]]] + [h for h in run if key not in sides.names[sides.row[h[0]]]]


def rm3(sides: Sides, q: dict, first, docs: int, terms: int, weight: float):
    """RM3-like expansion of the BM25 query: the ``terms`` words of the first ranking's top ``docs`` records
    (weighted by their share of each record and its fused score, times idf) added with ``weight``."""
    lexical = sides.index.bm25.lexical
    plain = sides.index.bm25.parse(q["query"]).plain
    if plain is None or len(q["query"]) < 20:
        return q["bm25"]
    have = {w for w, _ in plain.groups}
    relevance: Counter = Counter()
    for doc_id, score in first[:docs]:
        counts = sides.words[sides.row[doc_id]]
        total = sum(counts.values()) or 1
        for word, n in counts.items():
            relevance[word] += n / total * max(score, 1e-6)
    chosen = sorted((w for w in relevance if w not in have and lexical.knows(w)),
                    key=lambda w: -relevance[w] * lexical.idf(w))[:terms]
    if not chosen:
        return q["bm25"]
    z = sum(relevance[w] for w in chosen)
    expanded = copy.copy(plain)
    expanded.alternatives = list(plain.alternatives) + [([(w, ())], weight * relevance[w] / z * len(chosen)) for w in chosen]
    return lexical.rank(expanded, None, len(sides.ids))


def proximity(sides: Sides, run, query: str, weight: float):
    """Sequential-dependence evidence: the share of the query's adjacent word pairs found contiguous in the
    name (counted twice) and the goal, times ``weight``, added to the fused score (queries over 8 chars)."""
    words = [w.lower() for w in query_words(query, sides.index.extra_words) if re.search(r"\w", w)]
    pairs = list(dict.fromkeys(a + b for a, b in zip(words, words[1:])))
    if not pairs or len(name_key(query)) <= 8:
        return run
    scored = [(d, s + weight * sum(2 * (p in sides.names[sides.row[d]]) + (p in sides.goals[sides.row[d]])
                                   for p in pairs) / (3 * len(pairs))) for d, s in run]
    return sorted(scored, key=lambda h: -h[1])


def fuse_runs(runs: list, weights: list[float], s: dict) -> list:
    """The shipped convex fusion (min-max, BM25 from 0) or a tried one: z-scores over each side's first 100
    (an id a side did not return takes that side's lowest z), and CombMNZ (the sum times how many sides found it)."""
    if s["norm"] == "minmax" and not s["mnz"]:
        return convex(runs, weights, [0.0, None] + [None] * (len(runs) - 2), 100)
    total: dict[str, float] = defaultdict(float)
    found: Counter = Counter()
    for run, weight in zip(runs, weights):
        head = run[:100]
        values = np.array([v for _, v in head])
        if s["norm"] == "z":
            z = (values - values.mean()) / (values.std() or 1.0)
            part = dict(zip((d for d, _ in head), z - z.min()))  # absent: the lowest z, i.e. 0 after the shift
        else:
            part = normalised(head, 0.0 if run is runs[0] else None)
        for doc_id, value in part.items():
            total[doc_id] += weight * value
            found[doc_id] += 1
    for run in runs:
        for doc_id, _ in run:
            total.setdefault(doc_id, 0.0)
    if s["mnz"]:
        total = {d: v * found[d] for d, v in total.items()}
    order = {d: i for i, (d, _) in enumerate(runs[0])}
    return sorted(total.items(), key=lambda h: (-h[1], order.get(h[0], len(order)), h[0]))


def frequent_dropped(sides: Sides, q: dict, share: float):
    """BM25 over a paste without its common terms: words and n-grams in more than ``share`` of the records
    are dropped (they match half the index and say little); shorter queries are unchanged."""
    lexical = sides.index.bm25.lexical
    plain = sides.index.bm25.parse(q["query"]).plain
    if plain is None or len(q["query"]) < PASTE:
        return q["bm25"]
    limit = share * len(sides.ids)

    def rare(term: str, postings) -> bool:
        col = lexical.column.get(term)
        return col is None or float(postings.df[col]) <= limit

    kept = [(g, w) for g, w in zip(plain.groups, plain.weights) if rare(g[0], lexical.words)]
    thin = copy.copy(plain)
    thin.groups, thin.weights = [g for g, _ in kept], [w for _, w in kept]
    thin.grams = {g: w for g, w in plain.grams.items() if rare(g, lexical.grams)}
    if not thin.groups and not thin.grams:
        return q["bm25"]
    found = lexical.rank(thin, None, len(sides.ids))
    seen = {d for d, _ in found}
    return found + [(d, 0.0) for d, _ in q["bm25"] if d not in seen]


def semantic_scores(sides: Sides, q: dict, vector: np.ndarray, s: dict) -> np.ndarray:
    """Cosines of ``vector``; for a paste with ``segments`` = (share, "max"|"mean"), mixed with the best (or
    mean) cosine of its sentences, each encoded alone (a long paste averages several needs into one vector)."""
    scores = sides.cosines(vector, s["maxp"])
    if s["segments"] and q["segments"] is not None and len(q["segments"]) > 1:
        share, how = s["segments"]
        per = np.stack([sides.cosines(v, s["maxp"]) for v in q["segments"]])
        scores = (1 - share) * scores + share * (per.max(axis=0) if how == "max" else per.mean(axis=0))
    return scores


def deduped(sides: Sides, run: list) -> list:
    """A record whose name repeats one ranked higher (the same project in another year or table) moves after
    the first ten distinct names."""
    seen, first, later = set(), [], []
    for hit in run:
        key = sides.names[sides.row[hit[0]]]
        (later if key in seen and len(first) < 10 else first).append(hit)
        seen.add(key)
    return first[:10] + later + first[10:]


def ranked(sides: Sides, q: dict, s: dict) -> tuple[list, list]:
    """(semantic run, hybrid run) of one query under settings ``s``."""
    w = s["w"][query_class(q["query"])]
    vector = q["vector"]
    if s["both_prompts"] and len(q["query"]) < 80:
        vector = (vector + q["other_prompt"]) / np.linalg.norm(vector + q["other_prompt"])
    bm25 = name_first(sides, frequent_dropped(sides, q, s["df_max"]) if s["df_max"] else q["bm25"], q["query"],
                      s["name_first"])
    semantic = sides.run(semantic_scores(sides, q, vector, s))
    first = fuse_runs([bm25, semantic], [w, 1 - w], s)
    if s["rm3"]:
        bm25 = name_first(sides, rm3(sides, q, first, *s["rm3"]), q["query"], s["name_first"])
    moved = semantic
    if s["fb_docs"]:
        source = {"fused": first, "bm25": bm25, "semantic": semantic}[s["fb_from"]][:s["fb_docs"]]
        centroid = sides.docs[[sides.row[d] for d, _ in source]].mean(axis=0)
        moved = sides.run(semantic_scores(sides, q, rocchio(vector, centroid, s["fb_beta"]), s))
    if s["three_way"] is not None:
        share = s["three_way"]
        fused = convex([bm25, semantic, moved], [w, (1 - w) * share, (1 - w) * (1 - share)], [0.0, None, None], 100)
    else:
        fused = fuse_runs([bm25, moved], [w, 1 - w], s)
    if s["prox"]:
        fused = proximity(sides, fused, q["query"], s["prox"])
    fused = name_first(sides, fused, q["query"], s["name_first"])
    return moved, deduped(sides, fused) if s["dedupe"] else fused


def scores(sides: Sides, s: dict) -> dict:
    out = {}
    for name, queries in sides.queries.items():
        for mode in ("hybrid", "semantic"):
            per = defaultdict(list)
            for q in queries:
                semantic, hybrid = ranked(sides, q, s)
                value = ndcg_at_k([d for d, _ in (hybrid if mode == "hybrid" else semantic)][:10], q["judged"], 10)
                per[q["kind"]].append(value)
                per["overall"].append(value)
            out[f"{name}_{mode}"] = {k: round(float(np.mean(v)), 4) for k, v in per.items()}
    return out


def rows() -> list[tuple[str, dict, str]]:
    before = {**SHIPPED, "name_first": 0, "fb_docs": 0}
    out = [("#13 settings (before this issue)", before, "")]
    out.append(("+ name first (short queries ≤ 8 chars)", {**before, "name_first": 8}, "kept"))
    out.append(("+ Rocchio from the first fused top 3, β 1 = shipped", dict(SHIPPED), "kept"))
    tried = [
        ("Rocchio from the BM25 top 3 instead", {"fb_from": "bm25"}),
        ("Rocchio from the semantic top 3 instead (#13's try)", {"fb_from": "semantic"}),
        ("Rocchio top 5, β 0.5", {"fb_docs": 5, "fb_beta": 0.5}),
        ("Rocchio top 2, β 1", {"fb_docs": 2}),
        ("Rocchio top 3, β 2", {"fb_beta": 2.0}),
        ("Rocchio top 10, β 1", {"fb_docs": 10}),
        ("fusion: original and moved vectors both, half each", {"three_way": 0.5}),
        ("MaxP: best goal sentence, mixed 0.2 with the views", {"maxp": 0.2}),
        ("MaxP mixed 0.3", {"maxp": 0.3}),
        ("MaxP mixed 0.5", {"maxp": 0.5}),
        ("RM3 for BM25 (queries ≥ 20 chars): top 5, 10 terms, 0.3", {"rm3": (5, 10, 0.3)}),
        ("RM3: top 10, 20 terms, 0.2", {"rm3": (10, 20, 0.2)}),
        ("proximity: adjacent query words in name/goal, 0.1", {"prox": 0.1}),
        ("proximity 0.4", {"prox": 0.4}),
        ("weights by kind: few words 0.7 BM25", {"w": {**SHIPPED["w"], "short": 0.7}}),
        ("weights by kind: few words 0.5", {"w": {**SHIPPED["w"], "short": 0.5}}),
        ("weights by kind: sentence 0.5", {"w": {**SHIPPED["w"], "sentence": 0.5}}),
        ("weights by kind: sentence 0.7", {"w": {**SHIPPED["w"], "sentence": 0.7}}),
        ("weights by kind: paste 0.5", {"w": {**SHIPPED["w"], "paste": 0.5}}),
        ("weights by kind: paste 0.7", {"w": {**SHIPPED["w"], "paste": 0.7}}),
        ("one weight 0.5 for every query", {"w": {"short": .5, "sentence": .5, "paste": .5}}),
        ("query vector: both prompts averaged (non-pastes)", {"both_prompts": True}),
    ] + NEW
    out += [(label, {**SHIPPED, **change}, "tried") for label, change in tried]
    return out


NEW = [  # round four (what was left of #30): each alone on the shipped settings
    ("fusion: z-scores over each side's first 100 instead of min-max", {"norm": "z"}),
    ("z-scores, 0.5 BM25", {"norm": "z", "w": {"short": .5, "sentence": .5, "paste": .5}}),
    ("z-scores, 0.7 BM25", {"norm": "z", "w": {"short": .7, "sentence": .7, "paste": .7}}),
    ("CombMNZ: min-max sum × sides that found it", {"mnz": True}),
    ("paste BM25 without terms in > 20 % of records", {"df_max": 0.2}),
    ("paste BM25 without terms in > 10 %", {"df_max": 0.1}),
    ("paste BM25 without terms in > 5 %", {"df_max": 0.05}),
    ("paste split in sentences: vector side 0.5 whole + 0.5 best sentence", {"segments": (0.5, "max")}),
    ("sentences: 0.3 best sentence", {"segments": (0.3, "max")}),
    ("sentences: best sentence alone", {"segments": (1.0, "max")}),
    ("sentences: 0.5 mean over sentences", {"segments": (0.5, "mean")}),
    ("top 10: a name already ranked moves after the 10th", {"dedupe": True}),
]


def new_rows() -> list[tuple[str, dict, str]]:
    return [("shipped", dict(SHIPPED), "kept")] + [(label, {**SHIPPED, **change}, "tried") for label, change in NEW]


def exceptions(sides: Sides, s: dict) -> dict:
    """Short queries (≤ 8 chars) of both sets: how many have a name-holding project ranked below one whose
    name does not hold the query, and how many such projects, in bm25 and hybrid mode."""
    counts = {mode: {"queries": 0, "projects": 0} for mode in ("bm25", "hybrid")}
    total = 0
    for queries in sides.queries.values():
        for q in queries:
            key = name_key(q["query"])
            if len(key) > 8:
                continue
            total += 1
            for mode in counts:
                run = name_first(sides, q["bm25"], q["query"], s["name_first"]) if mode == "bm25" else ranked(sides, q, s)[1]
                holds = [key in sides.names[sides.row[d]] for d, _ in run]
                below = sum(1 for i, h in enumerate(holds) if h and not all(holds[:i]))
                counts[mode]["queries"] += bool(below)
                counts[mode]["projects"] += below
    return {"short_queries": total, **counts}


def embed_sentences(sides: Sides) -> dict:
    """Embed every goal's sentences (≥ 8 chars, cut at 。；！？) with the index's model, for the MaxP rows."""
    texts, owner = [], []
    for row, goal in enumerate(sides.goal_texts):
        for part in re.split(r"(?<=[。；;！？!?\n])", goal):
            if len(part.strip()) >= 8:
                texts.append(part.strip())
                owner.append(row)
    start = time.perf_counter()
    vectors = np.asarray(sides.index._embedder().encode_documents(texts), dtype=np.float32)
    seconds = time.perf_counter() - start
    sides.sentences = (vectors, np.array(owner))
    return {"sentences": len(texts), "records": len(sides.ids), "per_record": round(len(texts) / len(sides.ids), 2),
            "seconds": round(seconds, 1), "texts_per_s": round(len(texts) / seconds, 1), "bytes": int(vectors.nbytes)}


def why(sides: Sides) -> list[dict]:
    """The dev queries where BM25 alone beats hybrid: the hybrid top 5 with grades and each side's ranks, and
    where each judged record went."""
    out = []
    for q in sides.queries["dev"]:
        moved, hybrid = ranked(sides, q, SHIPPED)
        lexical = [d for d, _ in q["bm25"]]
        gain = {m: ndcg_at_k(ids[:10], q["judged"], 10) for m, ids in (("hybrid", [d for d, _ in hybrid]), ("bm25", lexical))}
        if gain["bm25"] <= gain["hybrid"] + 1e-9:
            continue
        at = {m: {d: i for i, (d, _) in enumerate(run, start=1)} for m, run in (("b", q["bm25"]), ("s", moved), ("h", hybrid))}

        def where(d: str) -> dict:
            return {"name": sides.index.by_id[d].name, "grade": q["judged"].get(d, 0), **{m: at[m].get(d) for m in at}}

        out.append({"id": q["id"], **{m: round(v, 3) for m, v in gain.items()},
                    "top": [where(d) for d, _ in hybrid[:5]], "judged": [where(d) for d in q["judged"]]})
    return out


def new_only(sides: Sides, out: str | None) -> None:
    """Round four: the shipped row, each new lever alone, per kind on both sets, and the lost queries."""
    results = [{"row": label, "kind": kind, **scores(sides, s)} for label, s, kind in new_rows()]
    print("| lever | keyword | description | cross-city | overall | older set: keyword / description / goal / overall "
          "| semantic alone (dev / older) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        d, o = r["dev_hybrid"], r["old_hybrid"]
        print(f"| {r['row']} | {d['keyword']:.3f} | {d['description']:.3f} | {d['cross-city']:.3f} | {d['overall']:.3f} | "
              f"{o['keyword']:.3f} / {o['description']:.3f} / {o['goal']:.3f} / {o['overall']:.3f} | "
              f"{r['dev_semantic']['overall']:.3f} / {r['old_semantic']['overall']:.3f} |", flush=True)
    lost = why(sides)
    print(json.dumps(lost, ensure_ascii=False, indent=1))
    if out:
        Path(out).write_text(json.dumps({"rows": results, "lost": lost}, ensure_ascii=False, indent=1), "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", required=True, help="an index of the bundled samples")
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument("--new-only", action="store_true",
                        help="only the shipped row and round four's levers (no sentence vectors embedded), and why "
                             "the cross-city queries where BM25 alone does better lose")
    args = parser.parse_args()
    with GoalSearch.open(Path(args.index_dir)) as index:
        sides = Sides(index)
        if args.new_only:
            return new_only(sides, args.json)
        cost = embed_sentences(sides)
        results = []
        for label, s, kind in rows():
            results.append({"row": label, "kind": kind, **scores(sides, s)})
            d, o = results[-1]["dev_hybrid"], results[-1]["old_hybrid"]
            print(f"{label:60s} {d['keyword']:.3f} {d['description']:.3f} {d['cross-city']:.3f} {d['overall']:.3f}"
                  f"  old {o['overall']:.3f}  semantic {results[-1]['dev_semantic']['overall']:.3f}", flush=True)
        counted = {"before": exceptions(sides, {**SHIPPED, "name_first": 0, "fb_docs": 0}), "shipped": exceptions(sides, SHIPPED)}
    print("\n| lever | keyword | description | cross-city | overall | older set | semantic alone (dev / older) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        d = r["dev_hybrid"]
        print(f"| {r['row']} | {d['keyword']:.3f} | {d['description']:.3f} | {d['cross-city']:.3f} | {d['overall']:.3f} | "
              f"{r['old_hybrid']['overall']:.3f} | {r['dev_semantic']['overall']:.3f} / {r['old_semantic']['overall']:.3f} |")
    print("\nname-first exceptions:", json.dumps(counted))
    print("sentence vectors (MaxP):", json.dumps(cost))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": results, "exceptions": counted, "maxp_cost": cost},
                                              ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
