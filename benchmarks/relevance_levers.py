"""Relevance levers on the dev set: every ranking choice of issues #13 and #30, one at a time, per query kind.

    python benchmarks/relevance_levers.py                 # table for benchmarks/README.md
    python benchmarks/relevance_levers.py --json out.json

Builds three indexes of the bundled samples (the vectors differ: ``name：goal`` cut at 128
characters, ``name：goal`` whole, and the two views ``name：goal`` + goal), then scores hybrid
(and where it says so bm25 or semantic) with the settings of each row: the rows from
"before" add one lever each, cumulatively, up to the shipped settings; the rows after
"shipped" take one lever away each. nDCG@10 per kind on ``benchmarks/dev_queries.json``,
overall on the older ``benchmarks/eval_queries.json``. The settings are the package data
(``indexer/data/fields.json``, ``vectors.json``, ``fusion.json``), changed in this process only.

The floor row is a plain character-bigram BM25 over name + goal (no jieba, no field
boosts), which hybrid must beat on every kind.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import tempfile
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goalsearch.indexer import index_paths  # noqa: E402
from goalsearch.indexer.storage.vectors import vector_settings  # noqa: E402
from goalsearch.search import GoalSearch, evaluate, load_queries, sample_corpus  # noqa: E402
from goalsearch.search.evaluate import resolve  # noqa: E402
from goalsearch.search.fusion import fusion_settings  # noqa: E402
from goalsearch.search.lexical import field_boosts  # noqa: E402
from goalsearch.indexer.storage.term_weights import bm25_weights  # noqa: E402
from goalsearch.search.lexical.plain import query_settings  # noqa: E402
from goalsearch.search.metrics import ndcg_at_k  # noqa: E402

DEV = ROOT / "benchmarks" / "dev_queries.json"
OLD = ROOT / "benchmarks" / "eval_queries.json"
KINDS = ("keyword", "description", "cross-city")

BEFORE = {  # the settings before issue #13
    "boosts": {"name": 3.0, "aliases": 2.0, "goal": 1.0, "unit": 1.0, "department": 0.5, "name_ngrams": 0.0, "goal_ngrams": 0.0},
    "query": {"k3": 0.0, "key_terms": 64, "synonym_weight": 0.0, "synonyms_max_chars": 0, "paste_chars": 10 ** 9,
              "name_first_max_chars": 0},
    "fusion": {"method": "rrf", "depth": 50, "feedback": {"docs": 0, "beta": 1.0}},
    "index": "cut128",
    "passage_prompt": False,
}
SHIPPED_BOOSTS = dict(field_boosts())
SHIPPED_QUERY = dict(query_settings())
SHIPPED_FEEDBACK = dict(fusion_settings()["feedback"])


def levers() -> list[tuple[str, dict, str]]:
    """(row label, settings, what the row shows) — cumulative from BEFORE, then leave-one-out."""
    rows = []
    s = copy.deepcopy(BEFORE)
    rows.append(("before #13: jieba BM25 (name ×3), name：goal cut at 128, RRF k=60", copy.deepcopy(s), ""))

    def add(label: str, change) -> None:
        change(s)
        rows.append((label, copy.deepcopy(s), "cumulative"))

    add("+ character uni+bigram fields (name_ngrams, goal_ngrams ×2)",
        lambda s: s["boosts"].update(name_ngrams=2.0, goal_ngrams=2.0))
    add("+ jieba field boosts name 1, unit 0.3, department 0.2",
        lambda s: s["boosts"].update(name=1.0, aliases=1.0, unit=0.3, department=0.2))
    add("+ query-term repeats, saturated (k3 = 8)", lambda s: s["query"].update(k3=8.0))
    add("+ key terms: 40 words and 40 n-grams by weight × idf", lambda s: s["query"].update(key_terms=40))
    add("+ a paste (≥ 80 chars) is text, not syntax", lambda s: s["query"].update(paste_chars=80))
    add("+ a paste is encoded with the passage prompt", lambda s: s.update(passage_prompt=True))
    add("+ whole goals embedded (no 128-character cut)", lambda s: s.update(index="whole"))
    add("+ a second view: the goal alone (sum of cosines)", lambda s: s.update(index="views"))
    add("+ convex fusion 0.6 BM25 / 0.4 semantic, depth 100",
        lambda s: s["fusion"].update(method="convex", depth=100))
    add("+ domain synonyms (weight 1 shared, queries ≤ 60 chars) = shipped in #13",
        lambda s: s["query"].update(synonym_weight=SHIPPED_QUERY["synonym_weight"],
                                    synonyms_max_chars=SHIPPED_QUERY["synonyms_max_chars"]))
    add("+ a name holding a short query (≤ 8 chars) whole ranks first (bm25, hybrid)",
        lambda s: s["query"].update(name_first_max_chars=SHIPPED_QUERY["name_first_max_chars"]))
    add("+ Rocchio: the query vector moved toward the first fused top 3 (β 1), vectors searched again = shipped",
        lambda s: s["fusion"].update(feedback=dict(SHIPPED_FEEDBACK)))
    shipped = copy.deepcopy(s)

    def without(label: str, change) -> None:
        t = copy.deepcopy(shipped)
        change(t)
        rows.append((label, t, "shipped minus one"))

    without("shipped − synonym groups containing a dev keyword query's term", lambda t: t.update(synonyms="leave_dev_out"))
    without("shipped − n-gram fields", lambda t: t["boosts"].update(name_ngrams=0.0, goal_ngrams=0.0))
    without("shipped − qtf saturation (each distinct word once)", lambda t: t["query"].update(k3=0.0))
    without("shipped − key terms (all words of a paste)", lambda t: t["query"].update(key_terms=10 ** 6))
    without("shipped − goal view (name：goal whole only)", lambda t: t.update(index="whole"))
    without("shipped with RRF k=60 instead of convex", lambda t: t["fusion"].update(method="rrf"))
    without("shipped with convex 0.5 / 0.5", lambda t: t.update(weights={"bm25": 0.5, "semantic": 0.5}))
    without("shipped − name first", lambda t: t["query"].update(name_first_max_chars=0))
    without("shipped − Rocchio feedback", lambda t: t["fusion"].update(feedback={"docs": 0, "beta": 1.0}))
    without("shipped with feedback from the top 5, β 0.5", lambda t: t["fusion"].update(feedback={"docs": 5, "beta": 0.5}))
    without("shipped with feedback from the top 10, β 1", lambda t: t["fusion"].update(feedback={"docs": 10, "beta": 1.0}))
    return rows


@contextmanager
def settings(row: dict, dev_keyword_terms: list[str]):
    """Apply one row's settings to the package data dicts of this process, and restore them."""
    saved = (dict(field_boosts()), dict(query_settings()), dict(fusion_settings()),
             copy.deepcopy(fusion_settings()["convex_weights"]))
    field_boosts().update(row["boosts"])
    query_settings().update(row["query"])
    fusion_settings().update(row["fusion"])
    fusion_settings()["convex_weights"] = row.get("weights", saved[3])
    from goalsearch.search.lexical import synonyms as synonyms_module

    original_lines = synonyms_module.package_synonym_lines
    if row.get("synonyms") == "leave_dev_out":
        synonyms_module.package_synonym_lines = lambda: [
            line for line in original_lines()
            if not any(term.strip() and (term.strip() in q or q in term.strip())
                       for term in line.split("=") for q in dev_keyword_terms)]
    synonyms_module.load_synonyms.cache_clear()
    original_encode = GoalSearch.encode_query
    if not row["passage_prompt"]:
        GoalSearch.encode_query = lambda self, text: self._embedder().encode_queries([text[:2000]])[0]
    try:
        yield
    finally:
        field_boosts().clear(), field_boosts().update(saved[0])
        query_settings().clear(), query_settings().update(saved[1])
        fusion_settings().clear(), fusion_settings().update(saved[2])
        synonyms_module.package_synonym_lines = original_lines
        synonyms_module.load_synonyms.cache_clear()
        GoalSearch.encode_query = original_encode


INDEXES = {"cut128": {"views": ["name_goal"], "embed_goal_chars": 128},
           "whole": {"views": ["name_goal"], "embed_goal_chars": None},
           "views": {"views": ["name_goal", "goal"], "embed_goal_chars": None}}


def build_indexes(folder: Path) -> dict[str, Path]:
    paths = {}
    saved = dict(vector_settings())
    for name, change in INDEXES.items():
        path = folder / name
        if not (path / "CURRENT").exists():
            vector_settings().update(change)
            try:
                index_paths([sample_corpus()], path, rebuild=True)
            finally:
                vector_settings().clear()
                vector_settings().update(saved)
        paths[name] = path
    return paths


def per_kind(report, mode: str) -> dict[str, float]:
    return {kind: report.by_mode[mode][kind]["ndcg@10"] for kind in (*KINDS, "overall") if kind in report.by_mode[mode]}


def bigram_floor(index: GoalSearch, queries: list[dict]) -> dict[str, float]:
    """nDCG@10 per kind of a plain character-bigram BM25 over name + goal (k1 1.2, b 0.75, Whoosh's idf)."""
    from scipy import sparse

    def bigrams(text: str) -> list[str]:
        return [run[i:i + 2] for run in re.findall(r"[\u3400-\u9fff]+|[0-9A-Za-z]+", text.lower())
                for i in range(max(1, len(run) - 1))] if text else []

    vocabulary: dict[str, int] = {}
    rows, cols, counts = [], [], []
    for row, record in enumerate(index.records):
        for gram, n in Counter(bigrams(f"{record.name} {record.goal}")).items():
            rows.append(row)
            cols.append(vocabulary.setdefault(gram, len(vocabulary)))
            counts.append(n)
    matrix = sparse.csc_matrix((np.asarray(counts, np.float32), (rows, cols)), shape=(len(index.records), len(vocabulary)))
    matrix.sort_indices()
    weights = bm25_weights(matrix.indptr.astype(np.int64), matrix.indices, matrix.data, len(index.records))
    matrix = sparse.csc_matrix((weights, matrix.indices, matrix.indptr), shape=matrix.shape)
    scores = defaultdict(list)
    for query in queries:
        judged, _ = resolve(index, query["relevant"])
        columns = [vocabulary[g] for g in set(bigrams(query["query"])) if g in vocabulary]
        total = np.asarray(matrix[:, columns].sum(axis=1)).ravel() if columns else np.zeros(len(index.records))
        ranked = [index.records[i].id for i in np.argsort(-total, kind="stable")[:10] if total[i] > 0]
        value = ndcg_at_k(ranked, judged, 10)
        scores[query["kind"]].append(value)
        scores["overall"].append(value)
    return {kind: round(sum(v) / len(v), 4) for kind, v in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", help="keep the three indexes here (built once, reused on the next run)")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()
    dev, old = load_queries(DEV), load_queries(OLD)
    dev_keyword_terms = [part for q in dev if q["kind"] == "keyword" for part in q["query"].split()]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.work_dir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        paths = build_indexes(folder)
        with GoalSearch.open(paths["views"]) as index:
            results = [{"row": "floor: character-bigram BM25 over name + goal", "kind": "floor",
                        "dev": bigram_floor(index, dev), "old": bigram_floor(index, old)}]
        for label, row, kind in levers():
            # Opened anew for each row: the lexical side reads the field boosts when it loads.
            with settings(row, dev_keyword_terms), GoalSearch.open(paths[row["index"]]) as index:
                report = evaluate(index, dev, modes=["bm25", "semantic", "hybrid"])
                old_report = evaluate(index, old, modes=["hybrid"])
            results.append({"row": label, "kind": kind, "dev": per_kind(report, "hybrid"),
                            "dev_bm25": per_kind(report, "bm25"), "dev_semantic": per_kind(report, "semantic"),
                            "old": per_kind(old_report, "hybrid")})
            print(f"{label:70s} " + " ".join(f"{results[-1]['dev'][k]:.3f}" for k in (*KINDS, "overall"))
                  + f"  old {results[-1]['old']['overall']:.3f}", flush=True)
    print()
    print("| lever | keyword | description | cross-city | overall | older set | semantic alone |")
    print("|---|---|---|---|---|---|---|")
    for result in results:
        d = result["dev"]
        alone = f"{result['dev_semantic']['overall']:.3f}" if "dev_semantic" in result else ""
        print(f"| {result['row']} | {d['keyword']:.3f} | {d['description']:.3f} | {d['cross-city']:.3f} | "
              f"{d['overall']:.3f} | {result['old']['overall']:.3f} | {alone} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
