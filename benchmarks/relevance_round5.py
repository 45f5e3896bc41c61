"""Issue #30, round five: what is left to try without a stronger model, and how far any fusion could go.

    python -m goalsearch index indexer/samples --index-dir /tmp/relevance-idx
    pip install -e '.[bench]'     # scikit-learn, for the learned fusion rows
    python benchmarks/relevance_round5.py --index-dir /tmp/relevance-idx --json benchmarks/results/relevance_round5.json

Reuses round three's sides (``relevance_round3.Sides``: each side computed once per query, levers re-ranked in
numpy; its shipped row equals ``goalsearch eval``). Four parts, each against the shipped row:

1. levers on the corpus's own structure: a record lifted to its project family's best score, cosines smoothed
   over each record's nearest records (score regularisation), each record's name embedded with the query prompt
   as a view for short queries, and the query's synonyms given to the vector side;
2. BM25's own settings: k1 and b, the number of key terms of a paste, the query-term saturation k3 (each setting
   re-opens the index, whose summed weights are then made in memory from the counts with the patched k1 and b);
3. the ceiling of query-dependent fusion: each query fused with the BM25 weight that is best *for it* (an oracle);
4. learned fusion: a logistic regression over each candidate's normalised scores and ranks on both sides (and by
   query class), trained on one query set and scored on the other.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from relevance_round3 import SHIPPED, Sides, fuse_runs, name_first, query_class  # noqa: E402  (imports this tree)

from goalsearch.indexer.storage import term_weights  # noqa: E402
from goalsearch.search import GoalSearch  # noqa: E402
from goalsearch.search.feedback import rocchio  # noqa: E402
from goalsearch.search.fusion import normalised  # noqa: E402
from goalsearch.search.lexical.plain import query_settings  # noqa: E402
from goalsearch.search.lexical.synonyms import load_synonyms  # noqa: E402
from goalsearch.search.metrics import ndcg_at_k  # noqa: E402

SHORT = 12  # characters: a query this short is "a few words" (relevance_round3.query_class)
WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # BM25's share in the oracle's grid


# --- part 1: levers on the corpus's own structure ------------------------------------------------------------

def family_rows(sides: Sides) -> list[np.ndarray]:
    """For each record row, the rows of its project family (itself included; alone when it has none)."""
    groups: dict[str, list[int]] = defaultdict(list)
    of_record = sides.index.family_index.of_record
    for row, doc_id in enumerate(sides.ids):
        family = of_record.get(doc_id)
        groups[family.id if family else doc_id].append(row)
    out: list[np.ndarray] = [np.empty(0, dtype=int)] * len(sides.ids)
    for rows in groups.values():
        for row in rows:
            out[row] = np.array(rows)
    return out


def neighbours(sides: Sides, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each record's k nearest other records by cosine of its views' mean: (rows, similarities)."""
    docs = sides.docs / np.linalg.norm(sides.docs, axis=1, keepdims=True)
    similarity = docs @ docs.T
    np.fill_diagonal(similarity, -np.inf)
    order = np.argsort(-similarity, axis=1)[:, :k]
    return order, np.take_along_axis(similarity, order, axis=1)


def smoothed(cosines: np.ndarray, near: tuple[np.ndarray, np.ndarray], alpha: float) -> np.ndarray:
    """One step of score regularisation (Diaz, "Regularizing ad hoc retrieval scores", CIKM 2005): a record's
    cosine mixed with the similarity-weighted mean of its neighbours' cosines."""
    order, similarity = near
    weight = np.clip(similarity, 0, None)
    mean = (cosines[order] * weight).sum(axis=1) / np.maximum(weight.sum(axis=1), 1e-9)
    return (1 - alpha) * cosines + alpha * mean


def family_lift(sides: Sides, run: list, families: list[np.ndarray], share: float) -> list:
    """A record's fused score becomes max(own, ``share`` × the best fused score in its family): the judgements
    grade each year's record of a project, so a project found in one year pulls its other years up."""
    score = dict(run)
    order = {d: i for i, (d, _) in enumerate(run)}
    lifted = [(d, max(s, share * max(score.get(sides.ids[r], 0.0) for r in families[sides.row[d]]))) for d, s in run]
    return sorted(lifted, key=lambda h: (-h[1], order[h[0]]))


def name_view(sides: Sides, q: dict, cosines: np.ndarray, share: float) -> np.ndarray:
    """For a short query, the cosine mixed with that of each record's name encoded with the *query* prompt
    (query against query, e5's symmetric use: a few words against a few words)."""
    if not share or len(q["query"]) > SHORT:
        return cosines
    return (1 - share) * cosines + share * (sides.name_vectors @ q["vector"])


def add_synonym_vectors(sides: Sides) -> None:
    """For each query of ≤ 60 characters with synonym expansions, two vectors: ``append``, the query with every
    alternative appended; ``mean``, the mean of the query's vector and of each variant with one found term
    replaced by one alternative."""
    synonyms = load_synonyms()
    embedder = sides.index._embedder()
    for queries in sides.queries.values():
        for q in queries:
            text = q["query"]
            found = synonyms.expansions(text) if len(text) <= query_settings()["synonyms_max_chars"] else []
            q["synonym_vectors"] = None
            if found:
                appended = text + " " + " ".join(a for e in found for a in e.alternatives)
                variants = [text] + [text.replace(e.term, a) for e in found for a in e.alternatives]
                vectors = np.asarray(embedder.encode_queries([appended, *variants], passage=False), dtype=np.float32)
                mean = vectors[1:].mean(axis=0)
                q["synonym_vectors"] = {"append": vectors[0], "mean": mean / np.linalg.norm(mean)}


def ranked(sides: Sides, q: dict, lever: dict) -> tuple[list, list]:
    """(semantic run, hybrid run) of one query: the shipped pipeline (relevance_round3.ranked) with ``lever``."""
    s = SHIPPED
    w = lever.get("weight", s["w"][query_class(q["query"])])
    vector = q["vector"]
    if lever.get("synonyms") and q["synonym_vectors"] is not None:
        vector = q["synonym_vectors"][lever["synonyms"]]

    def cosines(v: np.ndarray) -> np.ndarray:
        out = name_view(sides, q, sides.cosines(v, 0.0), lever.get("name_view", 0.0))
        return smoothed(out, lever["near"], lever["smooth"]) if lever.get("smooth") else out

    bm25 = name_first(sides, q["bm25"], q["query"], s["name_first"])
    first = fuse_runs([bm25, sides.run(cosines(vector))], [w, 1 - w], s)
    centroid = sides.docs[[sides.row[d] for d, _ in first[:s["fb_docs"]]]].mean(axis=0)
    moved = sides.run(cosines(rocchio(vector, centroid, s["fb_beta"])))
    fused = fuse_runs([bm25, moved], [w, 1 - w], s)
    if lever.get("family"):
        fused = family_lift(sides, fused, lever["families"], lever["family"])
    return moved, name_first(sides, fused, q["query"], s["name_first"])


def ndcg_by_kind(results: list[tuple[dict, dict[str, list]]]) -> dict[str, dict[str, float]]:
    """Mean nDCG@10 per mode, per query kind and overall, of (query, {mode: run}) pairs."""
    per: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for q, runs in results:
        for mode, run in runs.items():
            value = ndcg_at_k([d for d, _ in run][:10], q["judged"], 10)
            per[mode][q["kind"]].append(value)
            per[mode]["overall"].append(value)
    return {mode: {k: round(float(np.mean(v)), 4) for k, v in kinds.items()} for mode, kinds in per.items()}


def scores(sides: Sides, lever: dict) -> dict:
    """nDCG@10 per set, mode (hybrid, semantic, bm25) and kind."""
    out = {}
    for name, queries in sides.queries.items():
        results = []
        for q in queries:
            semantic, hybrid = ranked(sides, q, lever)
            bm25 = name_first(sides, q["bm25"], q["query"], SHIPPED["name_first"])
            results.append((q, {"hybrid": hybrid, "semantic": semantic, "bm25": bm25}))
        out.update({f"{name}_{mode}": kinds for mode, kinds in ndcg_by_kind(results).items()})
    return out


def structure_levers(sides: Sides) -> list[tuple[str, dict]]:
    families = family_rows(sides)
    names = [sides.index.by_id[i].name for i in sides.ids]
    sides.name_vectors = np.asarray(sides.index._embedder().encode_queries(names, passage=False), dtype=np.float32)
    add_synonym_vectors(sides)
    levers: list[tuple[str, dict]] = [("shipped", {})]
    levers += [(f"family lift: max(own, {share} × the family's best)", {"family": share, "families": families})
               for share in (0.8, 0.9, 1.0)]
    for k in (5, 10):
        near = neighbours(sides, k)
        levers += [(f"cosines smoothed over {k} nearest records, α {alpha}", {"smooth": alpha, "near": near})
                   for alpha in (0.2, 0.4)]
    levers += [(f"short queries: name embedded with the query prompt, mixed {share}", {"name_view": share})
               for share in (0.2, 0.35, 0.5)]
    levers += [("vector side: the query with its synonyms appended", {"synonyms": "append"}),
               ("vector side: mean vector of the query and its synonym variants", {"synonyms": "mean"})]
    return levers


# --- part 2: BM25's own settings ------------------------------------------------------------------------------

def bm25_settings(index_dir: Path) -> list[tuple[str, dict]]:
    """Rows for k1 × b, key terms and k3; each re-opens the index with the setting patched, then restores it."""
    rows = []
    weights = term_weights.bm25_weights
    shipped = (term_weights.K1, term_weights.B, weights.__defaults__)
    for k1 in (0.6, 0.9, 1.2, 1.6, 2.0):
        for b in (0.3, 0.5, 0.75, 0.9):
            term_weights.K1, term_weights.B = k1, b  # read_summed then finds other weights and makes them anew
            weights.__defaults__ = (k1, b, *shipped[2][2:])
            try:
                rows.append((f"BM25 k1 {k1}, b {b}", measured(index_dir)))
            finally:
                term_weights.K1, term_weights.B, weights.__defaults__ = shipped
    for key, values in (("key_terms", (20, 30, 60, 80)), ("k3", (4.0, 16.0, 1000.0))):
        saved = query_settings()[key]
        for value in values:
            query_settings()[key] = value
            try:
                rows.append((f"query terms: {key} {value} (shipped {saved})", measured(index_dir)))
            finally:
                query_settings()[key] = saved
    return rows


def measured(index_dir: Path) -> dict:
    with GoalSearch.open(index_dir) as index:
        return scores(Sides(index), {})


# --- parts 3 and 4: how far query-dependent and learned fusion could go ---------------------------------------

def oracle(sides: Sides) -> dict:
    """nDCG@10 per set and kind with one BM25 weight for all (each of ``WEIGHTS``) and with each query's own best."""
    out = {}
    for name, queries in sides.queries.items():
        grid = {q["id"]: [ndcg_at_k([d for d, _ in ranked(sides, q, {"weight": w})[1]][:10], q["judged"], 10)
                          for w in WEIGHTS] for q in queries}
        kinds = sorted({q["kind"] for q in queries}) + ["overall"]
        out[name] = {kind: {"by_weight": dict(zip(map(str, WEIGHTS), np.round(np.mean(
            [grid[q["id"]] for q in queries if kind in (q["kind"], "overall")], axis=0), 4).tolist())),
            "best_per_query": round(float(np.mean([max(grid[q["id"]]) for q in queries if kind in (q["kind"], "overall")])), 4)}
            for kind in kinds}
    return out


def candidate_features(sides: Sides, q: dict) -> tuple[list[str], np.ndarray]:
    """The shipped hybrid's first 100 candidates and, for each, features a fusion could learn from: both sides'
    normalised scores (BM25 by its max, the moved and the first cosines min-max), the reciprocal ranks on each
    side and in the fused list, and the two normalised scores by query class (few words, sentence, paste)."""
    s, w = SHIPPED, SHIPPED["w"][query_class(q["query"])]
    bm25 = name_first(sides, q["bm25"], q["query"], s["name_first"])
    semantic = sides.run(sides.cosines(q["vector"], 0.0))
    first = fuse_runs([bm25, semantic], [w, 1 - w], s)
    centroid = sides.docs[[sides.row[d] for d, _ in first[:s["fb_docs"]]]].mean(axis=0)
    moved = sides.run(sides.cosines(rocchio(q["vector"], centroid, s["fb_beta"]), 0.0))
    fused = fuse_runs([bm25, moved], [w, 1 - w], s)
    candidates = [d for d, _ in fused[:100]]
    b, m, f = normalised(bm25[:100], 0.0), normalised(moved[:100], None), normalised(semantic[:100], None)
    ranks = [{d: i for i, (d, _) in enumerate(run)} for run in (bm25, moved, fused)]
    classes = [query_class(q["query"]) == c for c in ("short", "sentence", "paste")]
    rows = []
    for d in candidates:
        scores_ = (b.get(d, 0.0), m.get(d, 0.0))
        rows.append([*scores_, f.get(d, 0.0), *(1 / (r.get(d, 1000) + 5) for r in ranks),
                     *(x * c for x in scores_ for c in classes)])
    return candidates, np.array(rows)


def learned_fusion(sides: Sides) -> list[dict]:
    """Logistic regression (relevant = any grade) over ``candidate_features``, trained on one set, scored on both."""
    from sklearn.linear_model import LogisticRegression

    data = {name: [(q, *candidate_features(sides, q)) for q in queries] for name, queries in sides.queries.items()}
    out = []
    for train in data:
        features = np.vstack([x for _, _, x in data[train]])
        labels = np.array([q["judged"].get(d, 0) > 0 for q, candidates, _ in data[train] for d in candidates])
        for c in (0.1, 1.0, 10.0):
            model = LogisticRegression(C=c, max_iter=5000).fit(features, labels)
            row = {"trained_on": train, "C": c}
            for name, items in data.items():
                per = defaultdict(list)
                for q, candidates, x in items:
                    predicted = model.decision_function(x)
                    order = [(candidates[i], 0.0) for i in np.lexsort((np.arange(len(predicted)), -predicted))]
                    value = ndcg_at_k([d for d, _ in name_first(sides, order, q["query"], SHIPPED["name_first"])][:10],
                                      q["judged"], 10)
                    per[q["kind"]].append(value)
                    per["overall"].append(value)
                row[name] = {k: round(float(np.mean(v)), 4) for k, v in per.items()}
            out.append(row)
    return out


def table_row(label: str, r: dict) -> str:
    d, o = r["dev_hybrid"], r["old_hybrid"]
    return (f"| {label} | {d['keyword']:.3f} | {d['description']:.3f} | {d['cross-city']:.3f} | {d['overall']:.3f} | "
            f"{o['keyword']:.3f} / {o['description']:.3f} / {o['goal']:.3f} / {o['overall']:.3f} | "
            f"{r['dev_bm25']['overall']:.3f} / {r['dev_semantic']['overall']:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", required=True, type=Path, help="an index of the bundled samples")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()
    print("| lever | keyword | description | cross-city | overall | older set: keyword / description / goal / overall "
          "| bm25 / semantic alone (dev) |\n|---|---|---|---|---|---|---|")
    results: dict = {"rows": []}
    with GoalSearch.open(args.index_dir) as index:
        sides = Sides(index)
        for label, lever in structure_levers(sides):
            results["rows"].append({"row": label, **scores(sides, lever)})
            print(table_row(label, results["rows"][-1]), flush=True)
        results["oracle"] = oracle(sides)
        results["learned_fusion"] = learned_fusion(sides)
    for label, measured_row in bm25_settings(args.index_dir):
        results["rows"].append({"row": label, **measured_row})
        print(table_row(label, measured_row), flush=True)
    print("oracle:", json.dumps(results["oracle"], ensure_ascii=False))
    print("learned fusion:", json.dumps(results["learned_fusion"], ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
